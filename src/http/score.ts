/**
 * POST /v1/models/{model}/score: reads the images, queues them on the batcher and streams one
 * NDJSON line per image, in input order, as soon as it is scored, then a summary line.
 * @module
 */
import type { LoadedModel } from "../models/types.ts";
import type { ScoreSettings } from "../contract/scoring.ts";
import { parseImages, readBody } from "./body.ts";
import type { ImagePart } from "./body.ts";
import { type AppContext, findModel } from "./context.ts";
import { errorLine, scoreLine } from "./lines.ts";
import type { ErrorLine, ScoreLine } from "./lines.ts";
import { parseSettings } from "./params.ts";
import type { RouteContext } from "./router.ts";

/** Decodes and pre-processes one part into the model's [C, H, W] input. */
async function prepare(
  ctx: AppContext,
  model: LoadedModel,
  part: ImagePart,
): Promise<Float32Array> {
  if (part.error) throw part.error;
  const image = await ctx.decode(part.bytes!, part.name, { maxPixels: ctx.config.maxPixels });
  return model.preprocess(image);
}

/** Handles the score route (see the module doc). */
export async function scoreRoute(ctx: AppContext, rc: RouteContext): Promise<Response> {
  const started = performance.now();
  const model = findModel(ctx, rc.params.model);
  const settings = parseSettings(rc.url.searchParams, model.defaults);
  // Refuse before reading the body when the queue is already full: bodies are the big memory.
  ctx.batcher.assertRoom(1);
  const bytes = await readBody(rc.req, ctx.config.maxBodyBytes);
  const body = await parseImages(rc.req.headers.get("content-type"), bytes, {
    maxImages: ctx.config.maxImagesPerRequest,
    name: rc.url.searchParams.get("name") ?? undefined,
  });

  const abort = new AbortController();
  const onClientGone = () => abort.abort();
  const admission = ctx.batcher.admit(model, settings, body.parts.length, abort.signal);
  rc.req.signal.addEventListener("abort", onClientGone, { once: true });
  let first: Float32Array | undefined;
  if (body.single) {
    // One raw image: its decoding problems are the request's problems (415/413/422).
    try {
      first = await prepare(ctx, model, body.parts[0]);
    } catch (e) {
      admission.release();
      rc.req.signal.removeEventListener("abort", onClientGone);
      throw e;
    }
  }

  const n = body.parts.length;
  // null = cancelled: the client went away, the line will never be written.
  const slots = Array.from(
    { length: n },
    () => Promise.withResolvers<ScoreLine | ErrorLine | null>(),
  );
  const cancelAll = () => slots.forEach((s) => s.resolve(null));
  abort.signal.addEventListener("abort", cancelAll, { once: true });

  const labels = { model: model.id };
  const record = (line: ScoreLine | ErrorLine) => {
    if ("error" in line) {
      ctx.metrics.images.inc({ ...labels, outcome: "error" });
      ctx.metrics.errors.inc({ code: line.error.code });
    } else ctx.metrics.images.inc({ ...labels, outcome: "scored" });
    return line;
  };

  // Parts are dropped once decoded so a long stream does not pin the whole request body.
  const parts: (ImagePart | undefined)[] = [...body.parts];
  const produce = async () => {
    for (let i = 0; i < n && !abort.signal.aborted; i++) {
      const part = parts[i]!;
      parts[i] = undefined;
      try {
        const input = i === 0 && first ? first : await prepare(ctx, model, part);
        admission.submit(input).then(
          (s) => slots[i].resolve(record(scoreLine(model, settings, i, part.name, s))),
          (e) => slots[i].resolve(abort.signal.aborted ? null : record(errorLine(i, part.name, e))),
        );
      } catch (e) {
        slots[i].resolve(record(errorLine(i, part.name, e)));
      }
    }
    admission.release();
  };

  const untrack = ctx.track();
  let finished = false;
  const finish = (outcome: "done" | "cancelled") => {
    if (finished) return;
    finished = true;
    if (outcome === "cancelled") abort.abort();
    rc.req.signal.removeEventListener("abort", onClientGone);
    admission.release();
    ctx.metrics.requestSeconds.observe((performance.now() - started) / 1000, { route: "score" });
    untrack();
  };

  const enc = new TextEncoder();
  const counts = { scored: 0, errors: 0, ood: 0 };
  let next = 0;
  const stream = new ReadableStream<Uint8Array>({
    start() {
      produce().catch((e) => console.error("Score producer failed:", e));
    },
    async pull(controller) {
      if (next < n) {
        const line = await slots[next++].promise;
        if (line === null) {
          countCancelled(ctx, labels, n - next + 1);
          controller.close();
          return finish("cancelled");
        }
        if ("error" in line) counts.errors++;
        else {
          counts.scored++;
          if (line.ood) counts.ood++;
        }
        controller.enqueue(enc.encode(JSON.stringify(line) + "\n"));
        return;
      }
      const summary = summaryOf(model, settings, n, counts, performance.now() - started);
      controller.enqueue(enc.encode(JSON.stringify({ summary }) + "\n"));
      controller.close();
      finish("done");
    },
    cancel() {
      countCancelled(ctx, labels, n - next);
      finish("cancelled");
    },
  });
  return new Response(stream, {
    headers: { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store" },
  });
}

function countCancelled(ctx: AppContext, labels: { model: string }, k: number): void {
  if (k > 0) ctx.metrics.images.inc({ ...labels, outcome: "cancelled" }, k);
}

function summaryOf(
  model: LoadedModel,
  settings: ScoreSettings,
  images: number,
  counts: { scored: number; errors: number; ood: number },
  ms: number,
) {
  return {
    model: model.id,
    method: settings.method,
    settings,
    calibrated: model.calibrationFor(settings) !== undefined,
    images,
    ...counts,
    ms: Math.round(ms * 10) / 10,
  };
}
