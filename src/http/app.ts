/**
 * The HTTP app: a route table behind a middleware pipeline (metrics → CORS → errors → URL limit
 * → routing → auth → drain → route). `createApp` returns a fetch-style handler that tests call
 * in-process and `main.ts` hands to `Deno.serve`. The batcher and metrics are dependencies, so
 * src/http uses src/serve without src/serve knowing about HTTP.
 * @module
 */
import type { Config } from "../config.ts";
import { ApiError } from "../errors.ts";
import { sharedDecodePool } from "../image/decode_pool.ts";
import type { ModelRegistry } from "../models/types.ts";
import { type Batcher, createBatcher } from "../serve/batcher.ts";
import { Metrics } from "../serve/metrics.ts";
import type { AppContext, DecodeFn } from "./context.ts";
import { DrainGate, withAuth } from "./middleware/access.ts";
import {
  withCors,
  withErrors,
  withRequestMetrics,
  withRouting,
  withUrlLimit,
} from "./middleware/basics.ts";
import { compose, type Exchange } from "./middleware/chain.ts";
import { getModelRoute, listModelsRoute } from "./models.ts";
import type { Route } from "./router.ts";
import { scoreRoute } from "./score.ts";
import { serveStatic } from "./static.ts";

/** What the app needs. */
export interface AppDeps {
  readonly registry: ModelRegistry;
  readonly config: Config;
  /** Metrics to report to (default: a new set). */
  readonly metrics?: Metrics;
  /** The batcher scoring runs on (default: `createBatcher(config, metrics)`). */
  readonly batcher?: Batcher;
  /** Image decoder (default: the shared worker pool of src/image/decode_pool.ts). */
  readonly decode?: DecodeFn;
}

/** A running app instance. */
export interface App {
  /** Answers one request; never throws. */
  handler(req: Request): Promise<Response>;
  /** Refuses new work (503 shutting_down) and resolves when in-flight requests and streams end. */
  drain(): Promise<void>;
  /**
   * Ends in-flight scoring now: unfinished images get `shutting_down` error lines, streams their
   * summary, and running batches are told to stop; `drain()` resolves once they have. Returns
   * the number of requests ended.
   */
  abort(): number;
  readonly draining: boolean;
  readonly metrics: Metrics;
  readonly batcher: Batcher;
}

/** Creates the app (see the module doc). */
export function createApp(deps: AppDeps): App {
  const { config } = deps;
  const metrics = deps.metrics ?? new Metrics();
  const batcher = deps.batcher ?? createBatcher(config, metrics);
  const gate = new DrainGate(config.retryAfterSeconds);
  const ctx: AppContext = {
    registry: deps.registry,
    config,
    metrics,
    batcher,
    ...(deps.decode ? { decode: deps.decode } : decodePool(config)),
    track: (onAbort) => gate.track(onAbort),
    shutdown: gate.signal,
  };
  const handle = compose([
    withRequestMetrics(metrics),
    withCors(config.corsOrigins),
    withErrors(metrics),
    withUrlLimit(config.maxUrlBytes),
    withRouting(routesOf(ctx, gate)),
    withAuth(config.authToken),
    gate.middleware(),
  ], (x) => dispatch(x, config.publicDir));

  return {
    handler: (req) => handle({ req, route: "unmatched" }),
    async drain() {
      await gate.drain();
      await batcher.drain();
    },
    abort: () => gate.abort(),
    get draining() {
      return gate.draining;
    },
    metrics,
    batcher,
  };
}

function routesOf(ctx: AppContext, gate: DrainGate): Route[] {
  const metricsText = () =>
    new Response(ctx.metrics.render(), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    });
  return [
    {
      name: "healthz",
      method: "GET",
      path: "/healthz",
      handle: () => Response.json({ status: "ok" }),
    },
    { name: "readyz", method: "GET", path: "/readyz", handle: () => readyz(ctx, gate) },
    { name: "metrics", method: "GET", path: "/metrics", handle: metricsText },
    { name: "models", method: "GET", path: "/v1/models", handle: () => listModelsRoute(ctx) },
    {
      name: "model",
      method: "GET",
      path: "/v1/models/:model",
      handle: (rc) => getModelRoute(ctx, rc),
    },
    {
      name: "score",
      method: "POST",
      path: "/v1/models/:model/score",
      handle: (rc) => scoreRoute(ctx, rc),
    },
  ];
}

function readyz(ctx: AppContext, gate: DrainGate): Response {
  if (gate.draining) throw gate.refusal();
  const { registry, config } = ctx;
  if (!registry.ready) {
    // A registry loading in the background exposes its failure (startRegistry, models/loader.ts).
    const failed = registry.error !== undefined;
    const why = failed ? "loading models failed (see the server log)" : "models are still loading";
    throw new ApiError(503, "not_ready", `Cannot serve yet: ${why}`, {
      "retry-after": String(config.retryAfterSeconds),
    });
  }
  return Response.json({ status: "ready", models: registry.list().map((m) => m.id) });
}

/** The innermost handler: the matched route, 405, a static file, or 404. */
async function dispatch(x: Exchange, publicDir: string): Promise<Response> {
  const url = x.url!;
  if (x.match) return await x.match.route.handle({ req: x.req, url, params: x.match.params });
  if (x.allow) throw methodNotAllowed(x.req.method, url.pathname, x.allow);
  if (!url.pathname.startsWith("/v1/")) {
    const head = x.req.method === "HEAD";
    const file = await serveStatic(publicDir, url.pathname, head || x.req.method !== "GET");
    if (file) {
      x.route = "static";
      if (head || x.req.method === "GET") return file;
      // The path names a static file, only not for this method.
      await file.body?.cancel();
      throw methodNotAllowed(x.req.method, url.pathname, ["GET", "HEAD"]);
    }
  }
  throw new ApiError(404, "not_found", `Cannot find ${JSON.stringify(url.pathname.slice(0, 200))}`);
}

function methodNotAllowed(method: string, path: string, allow: readonly string[]): ApiError {
  return new ApiError(
    405,
    "method_not_allowed",
    `Cannot ${method} ${path.slice(0, 200)}: allowed ${allow.join(", ")}`,
    { allow: allow.join(", ") },
  );
}

/** The process-wide decode pool's decode and prepare for this configuration. */
function decodePool(config: Config): Pick<AppContext, "decode" | "prepare"> {
  const pool = sharedDecodePool({
    workers: config.decodeWorkers,
    maxInflightBytes: config.decodeMaxBytes,
  });
  return { decode: pool.decode, prepare: pool.prepare };
}
