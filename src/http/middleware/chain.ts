/**
 * The app's request pipeline: each concern (errors, CORS, metrics, URL limit, routing, auth,
 * drain) is a middleware wrapping the next handler, composed in one place (app.ts).
 * @module
 */
import type { Route } from "../router.ts";

/** One request as it moves through the pipeline; middleware fill in what they learn. */
export interface Exchange {
  readonly req: Request;
  /** The parsed URL (set by the URL-limit middleware). */
  url?: URL;
  /** Metric label of the route: a route name, "preflight", "static" or "unmatched". */
  route: string;
  /** The matched route and its params (set by the routing middleware when one matches). */
  match?: { readonly route: Route; readonly params: Record<string, string> };
  /** Methods the path allows when it matched with another method (→ 405). */
  allow?: readonly string[];
}

/** Answers one exchange. */
export type Handler = (x: Exchange) => Promise<Response>;

/** Wraps a handler with one concern. */
export type Middleware = (next: Handler) => Handler;

/** `middleware[0]` outermost, `end` innermost. */
export function compose(middleware: readonly Middleware[], end: Handler): Handler {
  return middleware.reduceRight((next, mw) => mw(next), end);
}
