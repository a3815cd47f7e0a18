/**
 * Dynamic batching: images from concurrent requests are scored together, grouped by model and
 * settings, up to `batchMax` images or `batchWaitMs` after the first one waits — like the dynamic
 * batching of inference servers. A bounded queue (`queueMaxImages`) turns excess load into 503s
 * instead of memory growth; each image gets its own promise so each request streams its own lines.
 * @module
 */
import { ApiError } from "../errors.ts";
import type { LoadedModel } from "../models/types.ts";
import type { ImageScore, ScoreSettings } from "../contract/scoring.ts";
import { settingsKey } from "../contract/settings.ts";
import type { Metrics } from "./metrics.ts";

/** Batcher limits. */
export interface BatcherOptions {
  readonly batchMax: number;
  readonly batchWaitMs: number;
  readonly queueMaxImages: number;
  /** Seconds for Retry-After on 503 (default 1). */
  readonly retryAfterSeconds?: number;
  /** Scorer calls allowed to run at once over all models (default 1: the CPU is shared). */
  readonly concurrency?: number;
  readonly metrics?: Metrics;
}

/** Queue slots reserved for one request; images are submitted into them one by one. */
export interface Admission {
  /** Queues one pre-processed input [C, H, W]; resolves with its score. */
  submit(input: Float32Array): Promise<ImageScore>;
  /** Frees the slots not used by `submit` (call when done submitting). */
  release(): void;
}

interface Item {
  readonly input: Float32Array;
  readonly owner: AdmissionImpl;
  readonly queuedAt: number;
  resolve(score: ImageScore): void;
  reject(err: unknown): void;
}

interface Group {
  readonly key: string;
  readonly model: LoadedModel;
  readonly settings: ScoreSettings;
  readonly items: Item[];
}

/** The error an image's promise rejects with when its request went away before scoring. */
export function cancelledError(): DOMException {
  return new DOMException("The client disconnected before the image was scored", "AbortError");
}

class AdmissionImpl implements Admission {
  unused: number;
  constructor(
    readonly batcher: Batcher,
    readonly key: string,
    readonly model: LoadedModel,
    readonly settings: ScoreSettings,
    count: number,
    readonly signal: AbortSignal | undefined,
  ) {
    this.unused = count;
  }
  submit(input: Float32Array): Promise<ImageScore> {
    if (this.signal?.aborted) return Promise.reject(cancelledError());
    if (this.unused <= 0) throw new RangeError("Admission has no unused slots left");
    this.unused--;
    return this.batcher.enqueue(this, input);
  }
  release(): void {
    this.batcher.free(this.unused);
    this.unused = 0;
  }
}

/** Groups queued images into batches and runs them on the models' scorers. */
export class Batcher {
  readonly #opts: BatcherOptions;
  readonly #groups = new Map<string, Group>();
  #reserved = 0;
  #running = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #drainWaiters: (() => void)[] = [];

  constructor(options: BatcherOptions) {
    this.#opts = options;
  }

  /** Images admitted and not yet finished (queued, reserved or being scored). */
  get depth(): number {
    return this.#reserved;
  }

  /**
   * Reserves `count` queue slots for one request on `model` with `settings`.
   * An aborted `signal` rejects the request's queued images and frees its slots.
   * @throws {ApiError} 503 overloaded (with Retry-After) when the queue cannot take them.
   */
  admit(
    model: LoadedModel,
    settings: ScoreSettings,
    count: number,
    signal?: AbortSignal,
  ): Admission {
    this.assertRoom(count);
    this.#reserved += count;
    const key = `${model.id}\u0000${settingsKey(settings)}`;
    const admission = new AdmissionImpl(this, key, model, settings, count, signal);
    signal?.addEventListener("abort", () => this.#cancel(admission), { once: true });
    return admission;
  }

  /**
   * Throws the 503 `admit` would throw for `count` images, without reserving anything: lets a
   * request be refused before its body is read.
   */
  assertRoom(count: number): void {
    if (this.#reserved + count > this.#opts.queueMaxImages) {
      throw new ApiError(
        503,
        "overloaded",
        `Cannot queue ${count} image(s): ${this.#reserved} of ${this.#opts.queueMaxImages} queue slots are in use`,
        { "retry-after": String(this.#opts.retryAfterSeconds ?? 1) },
      );
    }
  }

  /** Resolves once every admitted image has finished. */
  drain(): Promise<void> {
    if (this.#reserved === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** @internal Queues one image of an admission. */
  enqueue(owner: AdmissionImpl, input: Float32Array): Promise<ImageScore> {
    return new Promise<ImageScore>((resolve, reject) => {
      let group = this.#groups.get(owner.key);
      if (!group) {
        group = { key: owner.key, model: owner.model, settings: owner.settings, items: [] };
        this.#groups.set(owner.key, group);
      }
      group.items.push({ input, owner, queuedAt: performance.now(), resolve, reject });
      this.#schedule();
    });
  }

  /** @internal Frees `n` slots. */
  free(n: number): void {
    if (n <= 0) return;
    this.#reserved -= n;
    if (this.#reserved === 0) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  #cancel(admission: AdmissionImpl): void {
    const group = this.#groups.get(admission.key);
    const mine = group?.items.filter((it) => it.owner === admission) ?? [];
    if (group && mine.length > 0) {
      const rest = group.items.filter((it) => it.owner !== admission);
      group.items.splice(0, group.items.length, ...rest);
      if (rest.length === 0) this.#groups.delete(group.key);
      for (const it of mine) it.reject(cancelledError());
      this.free(mine.length);
    }
    admission.release();
  }

  #schedule(): void {
    const max = this.#opts.concurrency ?? 1;
    while (this.#running < max) {
      const now = performance.now();
      let pick: Group | undefined;
      let nextDeadline = Infinity;
      for (const g of this.#groups.values()) {
        if (g.items.length === 0) continue;
        const deadline = g.items[0].queuedAt + this.#opts.batchWaitMs;
        const ready = g.items.length >= this.#opts.batchMax || deadline <= now;
        // Oldest ready group first, so no (model, settings) group starves.
        if (ready && (!pick || g.items[0].queuedAt < pick.items[0].queuedAt)) pick = g;
        if (!ready) nextDeadline = Math.min(nextDeadline, deadline);
      }
      if (!pick) {
        if (nextDeadline < Infinity) this.#arm(nextDeadline - now);
        return;
      }
      const batch = pick.items.splice(0, this.#opts.batchMax);
      if (pick.items.length === 0) this.#groups.delete(pick.key);
      this.#running++;
      this.#run(pick, batch).finally(() => {
        this.#running--;
        // A macrotask turn first, so the lines of the batch just scored reach their sockets
        // before a scorer that blocks the thread starts the next batch.
        setTimeout(() => this.#schedule(), 0);
      });
    }
  }

  #arm(delayMs: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#schedule();
    }, Math.max(0, Math.ceil(delayMs)));
  }

  async #run(group: Group, batch: Item[]): Promise<void> {
    const [c, h, w] = group.model.inputDims;
    const per = c * h * w;
    const ok = batch.filter((it) => {
      if (it.input.length === per) return true;
      it.reject(new Error(`Pre-processed input has ${it.input.length} values, expected ${per}`));
      return false;
    });
    const data = new Float32Array(ok.length * per);
    ok.forEach((it, i) => data.set(it.input, i * per));
    const labels = { model: group.model.id };
    this.#opts.metrics?.batchSize.observe(ok.length, labels);
    try {
      if (ok.length === 0) return;
      const scores = await group.model.scorer.score(
        { data, dims: [ok.length, c, h, w] },
        group.settings,
      );
      if (scores.length !== ok.length) {
        throw new Error(`Scorer returned ${scores.length} results for ${ok.length} images`);
      }
      const done = performance.now();
      ok.forEach((it, i) => {
        this.#opts.metrics?.imageSeconds.observe((done - it.queuedAt) / 1000, labels);
        it.resolve(scores[i]);
      });
    } catch (err) {
      for (const it of ok) it.reject(err);
    } finally {
      this.free(batch.length);
    }
  }
}
