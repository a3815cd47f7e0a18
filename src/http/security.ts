/**
 * Bearer-token auth (constant-time comparison) and CORS headers.
 * @module
 */
import { ApiError } from "../errors.ts";

/** Compares two strings in time independent of where they differ. */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  const n = Math.max(x.length, y.length);
  let diff = x.length ^ y.length;
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/**
 * Checks `Authorization: Bearer <token>` when a token is configured.
 * @throws {ApiError} 401 with a WWW-Authenticate challenge.
 */
export function checkAuth(req: Request, token: string | undefined): void {
  if (token === undefined) return;
  const header = req.headers.get("authorization") ?? "";
  const m = /^Bearer\s+(.+)$/i.exec(header);
  if (!m || !timingSafeEqual(m[1].trim(), token)) {
    throw new ApiError(
      401,
      "unauthorized",
      "Cannot authorize request: missing or wrong bearer token",
      {
        "www-authenticate": 'Bearer realm="si-ood"',
      },
    );
  }
}

/** Response headers browser code may read cross-origin (back-pressure and the deadline). */
const EXPOSED = "retry-after, x-request-timeout";

/** CORS headers for a request's Origin under the allowed list (empty when not allowed). */
export function corsHeaders(req: Request, allowed: readonly string[]): Record<string, string> {
  const origin = req.headers.get("origin");
  if (!origin || allowed.length === 0) return {};
  if (allowed.includes("*")) {
    return { "access-control-allow-origin": "*", "access-control-expose-headers": EXPOSED };
  }
  if (!allowed.includes(origin)) return {};
  return {
    "access-control-allow-origin": origin,
    "access-control-expose-headers": EXPOSED,
    "vary": "Origin",
  };
}

/** The answer to a CORS preflight (OPTIONS with Access-Control-Request-Method). */
export function preflight(req: Request, allowed: readonly string[]): Response {
  const base = corsHeaders(req, allowed);
  if (!base["access-control-allow-origin"]) return new Response(null, { status: 204 });
  return new Response(null, {
    status: 204,
    headers: {
      ...base,
      "access-control-allow-methods": "GET, POST, OPTIONS",
      "access-control-allow-headers": "authorization, content-type, x-request-timeout",
      "access-control-max-age": "600",
    },
  });
}
