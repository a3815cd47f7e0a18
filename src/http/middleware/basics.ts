/**
 * Small middleware: error responses, CORS, request metrics, URL limit and routing.
 * @module
 */
import { ApiError } from "../../errors.ts";
import type { Metrics } from "../../serve/metrics.ts";
import { matchRoute, type Route } from "../router.ts";
import { corsHeaders, preflight } from "../security.ts";
import type { Middleware } from "./chain.ts";

/** Turns thrown errors into JSON responses; unknown errors become a 500 without their message. */
export function withErrors(metrics: Metrics): Middleware {
  return (next) => async (x) => {
    try {
      return await next(x);
    } catch (err) {
      const api = err instanceof ApiError ? err : undefined;
      if (!api) console.error(`Unhandled error on ${x.req.method} ${x.req.url}:`, err);
      const e = api ?? new ApiError(500, "internal", "Internal server error");
      metrics.errors.inc({ code: e.code });
      return e.toResponse();
    }
  };
}

/**
 * Answers CORS preflights and adds CORS headers to every other response (errors included). When
 * CORS is configured, every response carries `Vary: Origin`, with or without an allowed Origin:
 * a cache must not serve an answer made for one origin (or none) to another.
 */
export function withCors(origins: readonly string[]): Middleware {
  return (next) => async (x) => {
    const res = x.req.method === "OPTIONS" && x.req.headers.has("access-control-request-method")
      ? (x.route = "preflight", preflight(x.req, origins))
      : await next(x);
    if (origins.length === 0) return res;
    for (const [k, v] of Object.entries(corsHeaders(x.req, origins))) {
      if (k !== "vary") res.headers.set(k, v);
    }
    addVaryOrigin(res.headers);
    return res;
  };
}

function addVaryOrigin(headers: Headers): void {
  const vary = headers.get("vary");
  if (!vary) headers.set("vary", "Origin");
  else if (!vary.split(",").some((v) => ["origin", "*"].includes(v.trim().toLowerCase()))) {
    headers.set("vary", `${vary}, Origin`);
  }
}

/** Counts requests by route and status, and times them (the score route times its own stream). */
export function withRequestMetrics(metrics: Metrics): Middleware {
  return (next) => async (x) => {
    const started = performance.now();
    const res = await next(x);
    metrics.requests.inc({ route: x.route, status: String(res.status) });
    if (x.route !== "score" || res.status !== 200) {
      metrics.requestSeconds.observe((performance.now() - started) / 1000, { route: x.route });
    }
    return res;
  };
}

/**
 * Refuses URLs longer than `maxBytes` with 414 and parses the URL. (URLs of 64 KiB and more never
 * get here: Deno's HTTP server refuses them itself with an empty 400.)
 */
export function withUrlLimit(maxBytes: number): Middleware {
  return (next) => (x) => {
    const length = new TextEncoder().encode(x.req.url).length;
    if (length > maxBytes) {
      throw new ApiError(
        414,
        "url_too_long",
        `Cannot read a URL of ${length} bytes: the limit is ${maxBytes}`,
      );
    }
    x.url = new URL(x.req.url);
    return next(x);
  };
}

/** Matches the route table (without running the route: auth and drain decide first). */
export function withRouting(routes: readonly Route[]): Middleware {
  return (next) => (x) => {
    const match = matchRoute(routes, x.req.method, x.url!.pathname);
    if (match.kind === "found") {
      x.route = match.route.name;
      x.match = { route: match.route, params: match.params };
    } else if (match.kind === "method_not_allowed") x.allow = match.allow;
    return next(x);
  };
}
