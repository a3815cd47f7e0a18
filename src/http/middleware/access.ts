/**
 * Access middleware: bearer-token auth and the shutdown drain.
 * @module
 */
import { ApiError } from "../../errors.ts";
import { checkAuth } from "../security.ts";
import type { Middleware } from "./chain.ts";

/**
 * Requires the token on every `/v1/` path (known or not, so unknown routes do not answer 404
 * before auth) and on /metrics. No-op without a token.
 */
export function withAuth(token: string | undefined): Middleware {
  return (next) => (x) => {
    const path = x.url!.pathname;
    if (path.startsWith("/v1/") || path === "/v1" || x.route === "metrics") checkAuth(x.req, token);
    return next(x);
  };
}

/** Routes still answered while draining: liveness and metrics. */
const OPEN_WHILE_DRAINING = new Set(["healthz", "metrics"]);

/**
 * Tracks in-flight requests and streams; once `drain()` is called, refuses new API work with
 * 503 shutting_down (and `Connection: close`) while what is in flight finishes.
 */
export class DrainGate {
  #inflight = 0;
  #draining = false;
  #idle: (() => void)[] = [];
  readonly #aborts = new Set<() => void>();
  readonly #stopping = new AbortController();
  constructor(readonly retryAfterSeconds: number) {}

  /** Aborted when the drain starts: work that has not been admitted yet (body reads) stops. */
  get signal(): AbortSignal {
    return this.#stopping.signal;
  }

  /** True once `drain()` was called. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Registers work that must finish before the drain completes; call the result when done.
   * `onAbort` ends that work early when `abort()` is called (the grace period is running out).
   */
  track(onAbort?: () => void): () => void {
    this.#inflight++;
    if (onAbort) this.#aborts.add(onAbort);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (onAbort) this.#aborts.delete(onAbort);
      if (--this.#inflight === 0) this.#idle.splice(0).forEach((r) => r());
    };
  }

  /** Ends every tracked piece of work that can be ended (see `track`); returns how many. */
  abort(): number {
    const all = [...this.#aborts];
    for (const a of all) a();
    return all.length;
  }

  /** Starts refusing work; resolves when nothing tracked is left. */
  drain(): Promise<void> {
    this.#draining = true;
    if (!this.#stopping.signal.aborted) this.#stopping.abort(this.refusal());
    if (this.#inflight === 0) return Promise.resolve();
    return new Promise<void>((r) => this.#idle.push(r));
  }

  /** The 503 of a request refused during the drain. */
  refusal(): ApiError {
    return new ApiError(503, "shutting_down", "Cannot accept work: shutting down", {
      "retry-after": String(this.retryAfterSeconds),
      "connection": "close",
    });
  }

  /** The middleware: refuses matched routes other than liveness/metrics while draining. */
  middleware(): Middleware {
    return (next) => async (x) => {
      if (this.#draining && x.match && !OPEN_WHILE_DRAINING.has(x.route)) throw this.refusal();
      const untrack = this.track();
      try {
        return await next(x);
      } finally {
        untrack();
      }
    };
  }
}
