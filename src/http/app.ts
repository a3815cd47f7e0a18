/**
 * The HTTP app: a route table and ONE error handler. `createApp` returns a fetch-style handler
 * that tests call in-process and `main.ts` hands to `Deno.serve`.
 * @module
 */
import type { Config } from "../config.ts";
import { ApiError } from "../errors.ts";
import { decodeImage } from "../image/decode.ts";
import type { ModelRegistry } from "../models/types.ts";
import { Batcher } from "../serve/batcher.ts";
import { Metrics } from "../serve/metrics.ts";
import type { AppContext, DecodeFn } from "./context.ts";
import { getModelRoute, listModelsRoute } from "./models.ts";
import { matchRoute, type Route } from "./router.ts";
import { scoreRoute } from "./score.ts";
import { checkAuth, corsHeaders, preflight } from "./security.ts";
import { serveStatic } from "./static.ts";

/** What the app needs. */
export interface AppDeps {
  readonly registry: ModelRegistry;
  readonly config: Config;
  readonly metrics?: Metrics;
  /** Image decoder (default: `decodeImage` of src/image/decode.ts). */
  readonly decode?: DecodeFn;
}

/** A running app instance. */
export interface App {
  /** Answers one request; never throws. */
  handler(req: Request): Promise<Response>;
  /** Refuses new work (503 shutting_down) and resolves when in-flight requests and streams end. */
  drain(): Promise<void>;
  readonly draining: boolean;
  readonly metrics: Metrics;
  readonly batcher: Batcher;
}

/** Creates the app (see the module doc). */
export function createApp(deps: AppDeps): App {
  const { registry, config } = deps;
  const metrics = deps.metrics ?? new Metrics();
  const batcher = new Batcher({
    batchMax: config.batchMax,
    batchWaitMs: config.batchWaitMs,
    queueMaxImages: config.queueMaxImages,
    retryAfterSeconds: config.retryAfterSeconds,
    metrics,
  });
  metrics.attachQueue(() => batcher.depth);

  let inflight = 0;
  let draining = false;
  const idle: (() => void)[] = [];
  const track = () => {
    inflight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--inflight === 0) idle.splice(0).forEach((r) => r());
    };
  };

  const ctx: AppContext = {
    registry,
    config,
    metrics,
    batcher,
    decode: deps.decode ?? decodeImage,
    track,
  };

  const routes: Route[] = [
    {
      name: "healthz",
      method: "GET",
      path: "/healthz",
      handle: () => Response.json({ status: "ok" }),
    },
    { name: "readyz", method: "GET", path: "/readyz", handle: () => readyz() },
    {
      name: "metrics",
      method: "GET",
      path: "/metrics",
      handle: () =>
        new Response(metrics.render(), {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        }),
    },
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

  function readyz(): Response {
    if (draining) throw new ApiError(503, "shutting_down", "Cannot accept work: shutting down");
    if (!registry.ready) {
      // A registry that loads in the background may expose its failure (see lazy_registry.ts).
      const failed = registry.error !== undefined;
      const why = failed
        ? "loading models failed (see the server log)"
        : "models are still loading";
      throw new ApiError(503, "not_ready", `Cannot serve yet: ${why}`, {
        "retry-after": String(config.retryAfterSeconds),
      });
    }
    return Response.json({ status: "ready", models: registry.list().map((m) => m.id) });
  }

  async function dispatch(
    req: Request,
    url: URL,
    info: { route: string },
  ): Promise<{ route: string; res: Response }> {
    if (req.method === "OPTIONS" && req.headers.has("access-control-request-method")) {
      info.route = "preflight";
      return { route: "preflight", res: preflight(req, config.corsOrigins) };
    }
    const match = matchRoute(routes, req.method, url.pathname);
    if (match.kind === "found") {
      const name = match.route.name;
      info.route = name;
      if (draining && name !== "healthz" && name !== "metrics") {
        throw new ApiError(503, "shutting_down", "Cannot accept work: shutting down", {
          "retry-after": String(config.retryAfterSeconds),
          "connection": "close",
        });
      }
      if (url.pathname.startsWith("/v1/") || name === "metrics") checkAuth(req, config.authToken);
      return { route: name, res: await match.route.handle({ req, url, params: match.params }) };
    }
    if (match.kind === "method_not_allowed") {
      throw new ApiError(
        405,
        "method_not_allowed",
        `Cannot ${req.method} ${url.pathname}: allowed ${match.allow.join(", ")}`,
        { allow: match.allow.join(", ") },
      );
    }
    if ((req.method === "GET" || req.method === "HEAD") && !url.pathname.startsWith("/v1/")) {
      const res = await serveStatic(config.publicDir, url.pathname, req.method === "HEAD");
      if (res) {
        info.route = "static";
        return { route: "static", res };
      }
    }
    throw new ApiError(
      404,
      "not_found",
      `Cannot find ${JSON.stringify(url.pathname.slice(0, 200))}`,
    );
  }

  async function handler(req: Request): Promise<Response> {
    const started = performance.now();
    const untrack = track();
    const info = { route: "unmatched" };
    let res: Response;
    try {
      const url = new URL(req.url);
      res = (await dispatch(req, url, info)).res;
    } catch (err) {
      const api = err instanceof ApiError ? err : undefined;
      if (!api) console.error(`Unhandled error on ${req.method} ${req.url}:`, err);
      const e = api ?? new ApiError(500, "internal", "Internal server error");
      metrics.errors.inc({ code: e.code });
      res = e.toResponse();
    } finally {
      untrack();
    }
    for (const [k, v] of Object.entries(corsHeaders(req, config.corsOrigins))) {
      res.headers.set(k, v);
    }
    const route = info.route;
    metrics.requests.inc({ route, status: String(res.status) });
    // The score route records its own latency when its stream ends.
    if (route !== "score" || res.status !== 200) {
      metrics.requestSeconds.observe((performance.now() - started) / 1000, { route });
    }
    return res;
  }

  async function drain(): Promise<void> {
    draining = true;
    if (inflight > 0) await new Promise<void>((r) => idle.push(r));
    await batcher.drain();
  }

  return {
    handler,
    drain,
    get draining() {
      return draining;
    },
    metrics,
    batcher,
  };
}
