/**
 * A minimal route table: method + path pattern with `:param` segments → handler.
 * @module
 */

/** What a route handler receives. */
export interface RouteContext {
  readonly req: Request;
  readonly url: URL;
  /** Decoded `:param` segments. */
  readonly params: Readonly<Record<string, string>>;
}

/** A route handler. */
export type RouteHandler = (ctx: RouteContext) => Response | Promise<Response>;

/** One entry of the route table. */
export interface Route {
  /** Metric label, e.g. "score". */
  readonly name: string;
  readonly method: string;
  /** e.g. "/v1/models/:model/score"; a trailing "*" matches any rest of the path. */
  readonly path: string;
  readonly handle: RouteHandler;
}

/** Result of matching a request against the table. */
export type Match =
  | { readonly kind: "found"; readonly route: Route; readonly params: Record<string, string> }
  | { readonly kind: "method_not_allowed"; readonly allow: readonly string[] }
  | { readonly kind: "not_found" };

function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const p = pattern.split("/");
  const s = path.split("/");
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i] === "*") return params;
    if (i >= s.length) return undefined;
    if (p[i].startsWith(":")) {
      if (s[i] === "") return undefined;
      try {
        params[p[i].slice(1)] = decodeURIComponent(s[i]);
      } catch {
        return undefined;
      }
    } else if (p[i] !== s[i]) return undefined;
  }
  return p.length === s.length ? params : undefined;
}

/** Finds the route for a method and path; HEAD falls back to GET routes. */
export function matchRoute(routes: readonly Route[], method: string, path: string): Match {
  const allow = new Set<string>();
  for (const route of routes) {
    const params = matchPath(route.path, path);
    if (!params) continue;
    if (route.method === method || (method === "HEAD" && route.method === "GET")) {
      return { kind: "found", route, params };
    }
    allow.add(route.method);
  }
  return allow.size > 0 ? { kind: "method_not_allowed", allow: [...allow] } : { kind: "not_found" };
}
