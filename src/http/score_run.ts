/**
 * One scoring request in flight: decodes its images in order, queues them on the batcher and
 * settles one slot per image exactly once — with its score line, its error line, a `timeout`
 * line when the request's deadline passes first, or `null` (cancelled) when the client goes away.
 * Each settlement is counted once in `si_images_total`, so metrics and lines always agree.
 * @module
 */
import { ApiError } from "../errors.ts";
import type { LoadedModel } from "../models/types.ts";
import type { Admission } from "../serve/batcher.ts";
import type { ScoreSettings } from "../contract/scoring.ts";
import type { ImagePart } from "./body.ts";
import type { AppContext } from "./context.ts";
import { errorLine, scoreLine } from "./lines.ts";
import type { ErrorLine, ScoreLine } from "./lines.ts";

/** A per-image line, or null when the request was cancelled before it was written. */
export type Slot = ScoreLine | ErrorLine | null;

/** Decodes and pre-processes one part into the model's [C, H, W] input. */
async function prepare(
  ctx: AppContext,
  model: LoadedModel,
  part: ImagePart,
): Promise<Float32Array> {
  if (part.error) throw part.error;
  const options = { maxPixels: ctx.config.maxPixels };
  // Manifest-driven pre-processing runs in the decode worker too (a 4096² resize blocks ~0.7 s).
  const job = model.preprocess.job;
  if (job && ctx.prepare) return await ctx.prepare(part.bytes!, part.name, options, job);
  const image = await ctx.decode(part.bytes!, part.name, options);
  return model.preprocess(image);
}

/** The error of an image not scored by its request's deadline. */
export function timeoutError(name: string, seconds: number): ApiError {
  return new ApiError(
    504,
    "timeout",
    `Cannot score image "${name}" within the request's deadline of ${seconds} s`,
  );
}

/** What a run needs to know about its request. */
export interface RunRequest {
  readonly model: LoadedModel;
  readonly settings: ScoreSettings;
  readonly parts: readonly ImagePart[];
  /** Seconds from arrival the request may take (its deadline). */
  readonly timeoutS: number;
  /** `performance.now()` at arrival. */
  readonly started: number;
}

/** The images of one request on their way through decoding and the batcher (see module doc). */
export class ScoreRun {
  readonly n: number;
  /** Aborted on cancellation or timeout: drops the request's queued images from the batcher. */
  readonly stop: AbortController = new AbortController();
  /** Resolves once every image is decoded and queued (or failed), or everything settled. */
  readonly validated: Promise<void>;
  readonly #ctx: AppContext;
  readonly #req: Omit<RunRequest, "parts">;
  /** Parts not yet decoded; each is dropped once decoded so the stream does not pin the body. */
  readonly #parts: (ImagePart | undefined)[];
  readonly #names: readonly string[];
  readonly #slots: PromiseWithResolvers<Slot>[];
  /** Per settled image: its ApiError when it failed (undefined when scored or pending). */
  readonly #errors: (ApiError | undefined)[];
  readonly #settled: boolean[] = [];
  #settledCount = 0;
  #cancelled = false;
  #failedCount = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #allSettled = Promise.withResolvers<void>();

  /**
   * Admits the images on the batcher and starts decoding and queueing them.
   * @throws {ApiError} 503 overloaded when the batcher refuses them.
   */
  constructor(ctx: AppContext, req: RunRequest) {
    this.#ctx = ctx;
    const { parts, ...rest } = req;
    this.#req = rest;
    this.n = parts.length;
    const leftMs = req.started + req.timeoutS * 1000 - performance.now();
    const admission = ctx.batcher.admit(req.model, req.settings, this.n, {
      signal: this.stop.signal,
      waitLimitSeconds: leftMs / 1000,
    });
    this.#parts = [...parts];
    this.#names = parts.map((p) => p.name);
    this.#slots = Array.from({ length: this.n }, () => Promise.withResolvers<Slot>());
    this.#errors = new Array(this.n).fill(undefined);
    this.#timer = setTimeout(() => this.expire(), Math.max(0, leftMs));
    this.validated = Promise.race([this.#produce(admission), this.#allSettled.promise]);
  }

  /** True once the client went away. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** The line of image `i` once settled. */
  line(i: number): Promise<Slot> {
    return this.#slots[i].promise;
  }

  /** True when every image has settled and none was scored. */
  get allFailed(): boolean {
    return this.#settledCount === this.n && this.#failedCount === this.n;
  }

  /** The error of the first failed image (by index), if any. */
  firstError(): ApiError | undefined {
    return this.#errors.find((e) => e !== undefined);
  }

  /** The client went away: every unsettled image counts as cancelled, queued ones are dropped. */
  cancel(): void {
    this.#cancelled = true;
    for (let i = 0; i < this.n; i++) this.#settle(i, null);
    this.#end(new DOMException("The client disconnected", "AbortError"));
  }

  /** The deadline passed: every unsettled image gets a timeout line, queued ones are dropped. */
  expire(): void {
    for (let i = 0; i < this.n; i++) {
      this.#fail(i, timeoutError(this.#names[i], this.#req.timeoutS));
    }
    this.#end(new ApiError(504, "timeout", `Deadline of ${this.#req.timeoutS} s passed`));
  }

  /**
   * The service is shutting down and its grace period is running out: every unsettled image gets
   * a `shutting_down` error line (so the stream still ends with its summary), queued ones are
   * dropped and a running batch of only such images is told to stop.
   */
  shutdown(): void {
    for (let i = 0; i < this.n; i++) {
      this.#fail(
        i,
        new ApiError(
          503,
          "shutting_down",
          `Cannot score image "${this.#names[i]}": the service is shutting down`,
        ),
      );
    }
    this.#end(new ApiError(503, "shutting_down", "The service is shutting down"));
  }

  /** Stops the deadline timer (call when the response ended). */
  close(): void {
    clearTimeout(this.#timer);
  }

  #end(reason: unknown): void {
    clearTimeout(this.#timer);
    if (!this.stop.signal.aborted) this.stop.abort(reason);
  }

  async #produce(admission: Admission): Promise<void> {
    const { model, settings } = this.#req;
    try {
      for (let i = 0; i < this.n && !this.stop.signal.aborted; i++) {
        const part = this.#parts[i]!;
        this.#parts[i] = undefined;
        let input: Float32Array;
        try {
          input = await prepare(this.#ctx, model, part);
        } catch (e) {
          this.#fail(i, e);
          continue;
        }
        admission.submit(input).then(
          (s) =>
            s.error
              ? this.#fail(
                i,
                new ApiError(500, "internal", `Cannot score "${part.name}": ${s.error}`),
              )
              : this.#settle(i, scoreLine(model, settings, i, part.name, s)),
          (e) => this.#fail(i, e),
        );
      }
    } catch (e) {
      // Unexpected (a bug): fail what is left rather than leave a request hanging.
      for (let i = 0; i < this.n; i++) this.#fail(i, e);
    } finally {
      admission.release();
    }
  }

  #fail(i: number, err: unknown): void {
    if (this.#settled[i]) return;
    const line = errorLine(i, this.#names[i], err);
    this.#errors[i] = err instanceof ApiError
      ? err
      : new ApiError(500, "internal", line.error.message);
    this.#failedCount++;
    this.#settle(i, line);
  }

  /** Settles slot `i` once; later calls for the same slot are ignored. */
  #settle(i: number, line: Slot): void {
    if (this.#settled[i]) return;
    this.#settled[i] = true;
    this.#settledCount++;
    this.#record(line);
    this.#slots[i].resolve(line);
    if (this.#settledCount === this.n) {
      clearTimeout(this.#timer);
      this.#allSettled.resolve();
    }
  }

  #record(line: Slot): void {
    const { metrics } = this.#ctx;
    const model = this.#req.model.id;
    if (line === null) metrics.images.inc({ model, outcome: "cancelled" });
    else if (!("error" in line)) metrics.images.inc({ model, outcome: "scored" });
    else {
      const code = line.error.code;
      metrics.images.inc({ model, outcome: code === "timeout" ? "timeout" : "error" });
      metrics.errors.inc({ code });
    }
  }
}
