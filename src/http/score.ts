/**
 * POST /v1/models/{model}/score: reads the images, queues them on the batcher and streams one
 * NDJSON line per image, in input order, as soon as it is scored, then a summary line.
 *
 * The status is committed before the first line: for one image once it is scored (so its
 * failure is the request's 4xx/5xx), for several once every image is decoded and queued (so a
 * request whose every image is invalid gets the 4xx of the first one). Failures after that
 * (scorer errors, the deadline) can only be error lines in a 200 stream.
 * @module
 */
import { ApiError } from "../errors.ts";
import { fusionRefusal } from "../models/fusion.ts";
import type { LoadedModel } from "../models/types.ts";
import type { ScoreSettings } from "../contract/scoring.ts";
import { parseImages, readBody } from "./body.ts";
import { type AppContext, findModel } from "./context.ts";
import { assertSettingsAllowed, parseSettings, parseTimeout } from "./params.ts";
import type { RouteContext } from "./router.ts";
import { ScoreRun } from "./score_run.ts";
import { allFailedResponse, ndjsonStream, summaryOf } from "./score_stream.ts";

/** Handles the score route (see the module doc). */
export async function scoreRoute(ctx: AppContext, rc: RouteContext): Promise<Response> {
  const started = performance.now();
  const model = findModel(ctx, rc.params.model);
  const settings = parseSettings(rc.url.searchParams, model.defaults);
  assertSettingsAllowed(model, settings, ctx.config);
  assertScorable(model, settings);
  const timeoutS = parseTimeout(
    rc.req.headers.get("x-request-timeout"),
    ctx.config.requestTimeoutMaxS,
  );
  // Refuse before reading the body when the queue is already full: bodies are the big memory.
  ctx.batcher.assertRoom(model, settings, 1, timeoutS);
  const bytes = await readBody(rc.req, ctx.config.maxBodyBytes, {
    timeoutMs: ctx.config.bodyTimeoutS * 1000,
    signal: ctx.shutdown,
  });
  const body = parseImages(rc.req.headers.get("content-type"), bytes, {
    maxImages: ctx.config.maxImagesPerRequest,
    name: rc.url.searchParams.get("name") ?? undefined,
  });
  const run = new ScoreRun(ctx, { model, settings, parts: body.parts, timeoutS, started });

  const finish = followRun(ctx, rc.req, run, started);
  // Never rejects: image failures settle as error lines.
  await (body.single ? run.line(0) : run.validated);
  if (run.cancelled) {
    finish(false);
    // Nobody reads it; 499 ("client closed request") keeps the request metrics honest.
    return new Response(null, { status: 499 });
  }
  if (run.allFailed) {
    finish(false);
    return await allFailedResponse(run, body.single);
  }
  const summary = (counts: Parameters<typeof summaryOf>[3]) =>
    summaryOf(model, settings, run.n, counts, performance.now() - started);
  return new Response(ndjsonStream(run, summary, () => finish(true)), {
    headers: {
      "content-type": "application/x-ndjson; charset=utf-8",
      "cache-control": "no-store",
      "x-request-timeout": String(timeoutS),
    },
  });
}

/**
 * Ties a run to its request: a client disconnect cancels it, and the drain waits for it. Returns
 * `finish(streamed)`, to call once when the response ends (idempotent); a streamed response
 * records its own latency, other answers are timed by the request-metrics middleware.
 */
function followRun(
  ctx: AppContext,
  req: Request,
  run: ScoreRun,
  started: number,
): (streamed: boolean) => void {
  const untrack = ctx.track(() => run.shutdown());
  const onClientGone = () => run.cancel();
  req.signal.addEventListener("abort", onClientGone, { once: true });
  let finished = false;
  return (streamed) => {
    if (finished) return;
    finished = true;
    req.signal.removeEventListener("abort", onClientGone);
    run.close();
    if (streamed) {
      ctx.metrics.requestSeconds.observe((performance.now() - started) / 1000, { route: "score" });
    }
    untrack();
  };
}

/** `fused` needs its calibration (component distributions): refused up front, not per image. */
function assertScorable(model: LoadedModel, settings: ScoreSettings): void {
  const refusal = fusionRefusal(model, settings);
  if (refusal) throw new ApiError(409, "not_calibrated", refusal.message);
}
