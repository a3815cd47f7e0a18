/**
 * The bodies of the score route: the NDJSON stream (one line per image in input order, then a
 * summary) and the JSON error of a request whose every image failed.
 * @module
 */
import type { LoadedModel } from "../models/types.ts";
import type { ScoreSettings } from "../contract/scoring.ts";
import type { ScoreRun } from "./score_run.ts";

/** Counts of a finished stream. */
export interface StreamCounts {
  scored: number;
  errors: number;
  ood: number;
}

/**
 * Streams the run's lines in input order as they settle, then `summary(counts)`. A cancelled
 * slot (the client went away) ends the stream; cancelling the stream cancels the run. `done`
 * runs once when the stream ends either way.
 */
export function ndjsonStream(
  run: ScoreRun,
  summary: (counts: StreamCounts) => unknown,
  done: () => void,
): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const counts: StreamCounts = { scored: 0, errors: 0, ood: 0 };
  let next = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (next < run.n) {
        const line = await run.line(next++);
        if (line === null) {
          controller.close();
          return done();
        }
        if ("error" in line) counts.errors++;
        else {
          counts.scored++;
          if (line.ood) counts.ood++;
        }
        controller.enqueue(enc.encode(JSON.stringify(line) + "\n"));
        return;
      }
      controller.enqueue(enc.encode(JSON.stringify({ summary: summary(counts) }) + "\n"));
      controller.close();
      done();
    },
    cancel() {
      run.cancel();
      done();
    },
  });
}

/**
 * The answer when every image failed before the status was committed: the first image's error
 * status and code; for several images, the message says so and `lines` holds every error line.
 */
export async function allFailedResponse(run: ScoreRun, single: boolean): Promise<Response> {
  const first = run.firstError()!;
  if (single) return first.toResponse();
  const lines = await Promise.all(Array.from({ length: run.n }, (_, i) => run.line(i)));
  const body = {
    error: {
      code: first.code,
      message: `Cannot score any of the ${run.n} images; the first failed: ${first.message}`,
    },
    lines,
  };
  return Response.json(body, { status: first.status, headers: first.headers });
}

/** The summary line of a finished stream. */
export function summaryOf(
  model: LoadedModel,
  settings: ScoreSettings,
  images: number,
  counts: StreamCounts,
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
