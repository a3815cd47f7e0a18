/**
 * Dynamic batching: images from concurrent requests are scored together, grouped by model and
 * settings, up to `batchMax` images or `batchWaitMs` after the first one waits — like the dynamic
 * batching of inference servers. Each image gets its own promise so each request streams its own
 * lines. Within a group, images are served first come, first served by request; a model runs one
 * batch at a time and `concurrency` batches of different models run at once (lanes.ts).
 *
 * Back-pressure is bounded twice: by image count (`queueMaxImages`, memory) and by expected wait
 * (`maxWaitSeconds`): the measured scorer seconds per image (see drain_rate.ts) times the images
 * already admitted, batch by batch, i.e. how long a new request's first image would wait. A
 * request that does not fit gets 503 with a `Retry-After` of the time the queue needs to drain
 * until it would fit, at the measured rate, plus the work of clients refused before it
 * (`RetryBook`). New settings are admitted one per model at a time (new_settings.ts).
 * @module
 */
import type { Config } from "../config.ts";
import { ApiError } from "../errors.ts";
import type { LoadedModel } from "../models/types.ts";
import type { ImageScore, ScoreSettings } from "../contract/scoring.ts";
import { settingsKey } from "../contract/settings.ts";
import { type Admission, AdmissionImpl, type AdmitOptions, cancelledError } from "./admission.ts";
import { DrainRate, refusal, RetryBook } from "./drain_rate.ts";
import { planFor, queuePlan, type QueueState } from "./lanes.ts";
import type { Metrics } from "./metrics.ts";
import { NewSettings } from "./new_settings.ts";

export type { Admission, AdmitOptions };

/** Batcher limits. */
export interface BatcherOptions {
  readonly batchMax: number;
  readonly batchWaitMs: number;
  /** Most images admitted and not finished, over all requests (bounds memory). */
  readonly queueMaxImages: number;
  /** Longest expected wait (seconds) a newly admitted image may face (default: unbounded). */
  readonly maxWaitSeconds?: number;
  /** Drain rate (images/s) assumed until a batch has been measured (default 2). */
  readonly priorImagesPerSecond?: number;
  /**
   * Scorer calls allowed to run at once over all models (default 1: the CPU is shared). A model
   * never runs two batches at once, so with 2 or more a slow model (a long batch, a compile of new
   * settings) leaves a lane for the others.
   */
  readonly concurrency?: number;
  readonly metrics?: Metrics;
  /** The drain-rate record to use (default: a new one with the prior); tests seed it. */
  readonly drainRate?: DrainRate;
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

interface RunningBatch {
  readonly key: string;
  readonly items: readonly Item[];
  readonly abort: AbortController;
  readonly startedAt: number;
}

/** The batch key of a model and settings: images share batches only within one key. */
export function batchKey(model: LoadedModel, settings: ScoreSettings): string {
  return `${model.id}\u0000${settingsKey(settings)}`;
}

/** A batcher with the limits of `config`, reporting to `metrics` (queue gauges attached). */
export function createBatcher(config: Config, metrics?: Metrics): Batcher {
  const batcher = new Batcher({
    batchMax: config.batchMax,
    batchWaitMs: config.batchWaitMs,
    queueMaxImages: config.queueMaxImages,
    maxWaitSeconds: config.queueMaxWaitS,
    priorImagesPerSecond: 1000 / config.queuePriorMsPerImage,
    concurrency: config.scoreConcurrency,
    metrics,
  });
  metrics?.attachQueue(() => batcher.depth, () => batcher.expectedWaitSeconds);
  return batcher;
}

/** Groups queued images into batches and runs them on the models' scorers. */
export class Batcher {
  readonly #opts: BatcherOptions;
  readonly #groups = new Map<string, Group>();
  /** Admitted, unfinished images per batch key. */
  readonly #outstanding = new Map<string, number>();
  readonly #runningBatches = new Set<RunningBatch>();
  readonly #rate: DrainRate;
  #reserved = 0;
  #running = 0;
  /** Batches running per model id. */
  readonly #runningModels = new Map<string, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #drainWaiters: (() => void)[] = [];
  /** Admissions so far: their order is the order batches serve requests in. */
  #seq = 0;
  readonly #promised = new RetryBook();

  readonly #newSettings: NewSettings;

  constructor(options: BatcherOptions) {
    this.#opts = options;
    this.#rate = options.drainRate ?? new DrainRate(options.priorImagesPerSecond ?? 2);
    this.#newSettings = new NewSettings(this.#rate);
  }

  /** Images admitted and not yet finished (queued, reserved or being scored). */
  get depth(): number {
    return this.#reserved;
  }

  /** Seconds until every admitted image is scored, at the measured drain rate. */
  get expectedWaitSeconds(): number {
    return queuePlan(this.#state()).at(-1)?.at ?? 0;
  }

  /** What is admitted now, for the drain plans (lanes.ts). */
  #state(): QueueState {
    return {
      rate: this.#rate,
      running: [...this.#runningBatches].map((r) => ({
        key: r.key,
        images: r.items.length,
        startedAt: r.startedAt,
      })),
      outstanding: this.#outstanding,
      batchMax: this.#opts.batchMax,
      concurrency: this.#opts.concurrency ?? 1,
    };
  }

  /** Measured (or prior) images per second for one model and settings. */
  imagesPerSecond(model: LoadedModel, settings: ScoreSettings): number {
    return 1 / this.#rate.secondsPerImage(batchKey(model, settings));
  }

  /**
   * Reserves `count` queue slots for one request on `model` with `settings`.
   * An aborted `options.signal` rejects the request's queued images and frees its slots.
   * @throws {ApiError} 503 overloaded (with Retry-After) when the queue cannot take them.
   */
  admit(
    model: LoadedModel,
    settings: ScoreSettings,
    count: number,
    options: AdmitOptions = {},
  ): Admission {
    this.assertRoom(model, settings, count, options.waitLimitSeconds);
    const key = batchKey(model, settings);
    this.#newSettings.admitted(model, settings);
    this.#reserved += count;
    this.#outstanding.set(key, (this.#outstanding.get(key) ?? 0) + count);
    const admission = new AdmissionImpl(
      this,
      key,
      model,
      settings,
      count,
      options.signal,
      this.#seq++,
    );
    options.signal?.addEventListener("abort", () => this.#cancel(admission), { once: true });
    return admission;
  }

  /**
   * Throws the error `admit` would throw, without reserving anything: lets a request be refused
   * before its body is read. The wait bound looks at the queue ahead (when the request's first
   * image would start): `maxWaitSeconds`, and the request's own limit less one image's time.
   * Into an empty queue a request is always admitted (waiting cannot make it faster); its
   * deadline then cuts what it cannot finish. `Retry-After` is the time, on the drain schedule,
   * at which the request would fit.
   * @throws {ApiError} 503 overloaded; 413 when `count` exceeds the whole queue.
   */
  assertRoom(
    model: LoadedModel,
    settings: ScoreSettings,
    count: number,
    waitLimitSeconds?: number,
  ): void {
    const max = this.#opts.queueMaxImages;
    const lanes = this.#opts.concurrency ?? 1;
    if (count > max) {
      throw new ApiError(
        413,
        "payload_too_large",
        `Cannot queue ${count} images in one request: the queue holds at most ${max}`,
      );
    }
    const spi = this.#rate.secondsPerImage(batchKey(model, settings));
    const limit = Math.min(
      this.#opts.maxWaitSeconds ?? Infinity,
      (waitLimitSeconds ?? Infinity) - spi / lanes,
    );
    this.#newSettings.assertAdmissible(
      model,
      settings,
      this.#outstanding.keys(),
      () => queuePlan(this.#state(), model.id).at(-1)?.at ?? 1,
    );
    const refused = refusal(planFor(this.#state(), model.id), {
      reserved: this.#reserved,
      count,
      queueMax: max,
      limit,
      imagesPerSecond: 1 / spi,
      promisedSeconds: this.#promised.seconds(),
    });
    if (!refused) return;
    // The next refused client is sent back after this one's work: its Retry-After is later.
    this.#promised.add(Number(refused.headers["retry-after"]), (count * spi) / lanes);
    throw refused;
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
      // FIFO by request: the image goes after every queued image of earlier (or the same)
      // requests, so earlier requests finish first; later ones still fill their batches.
      const items = group.items;
      let at = items.length;
      while (at > 0 && items[at - 1].owner.seq > owner.seq) at--;
      items.splice(at, 0, { input, owner, queuedAt: performance.now(), resolve, reject });
      this.#schedule();
    });
  }

  /** @internal Frees `n` slots of `key`. */
  free(key: string, n: number): void {
    if (n <= 0) return;
    this.#reserved -= n;
    const left = (this.#outstanding.get(key) ?? 0) - n;
    if (left > 0) this.#outstanding.set(key, left);
    else {
      this.#outstanding.delete(key);
      this.#newSettings.finished(key);
    }
    if (this.#reserved === 0) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  #cancel(admission: AdmissionImpl): void {
    const reason = admission.signal?.reason ?? cancelledError();
    const group = this.#groups.get(admission.key);
    const mine = group?.items.filter((it) => it.owner === admission) ?? [];
    if (group && mine.length > 0) {
      const rest = group.items.filter((it) => it.owner !== admission);
      group.items.splice(0, group.items.length, ...rest);
      if (rest.length === 0) this.#groups.delete(group.key);
      for (const it of mine) it.reject(reason);
      this.free(admission.key, mine.length);
    }
    admission.release();
    // A running batch whose every image belongs to requests that went away is not worth
    // finishing: scorers that honour the signal stop early.
    for (const run of this.#runningBatches) {
      if (run.items.every((it) => it.owner.signal?.aborted)) run.abort.abort(reason);
    }
  }

  #schedule(): void {
    const max = this.#opts.concurrency ?? 1;
    while (this.#running < max) {
      const now = performance.now();
      let pick: Group | undefined;
      let nextDeadline = Infinity;
      for (const g of this.#groups.values()) {
        // A model runs one batch at a time (its scorer is one worker).
        if (g.items.length === 0 || this.#runningModels.has(g.model.id)) continue;
        const oldest = g.items.reduce((t, it) => Math.min(t, it.queuedAt), Infinity);
        const deadline = oldest + this.#opts.batchWaitMs;
        const ready = g.items.length >= this.#opts.batchMax || deadline <= now;
        // The ready group serving the earliest request first, so no group starves.
        if (ready && (!pick || g.items[0].owner.seq < pick.items[0].owner.seq)) pick = g;
        if (!ready) nextDeadline = Math.min(nextDeadline, deadline);
      }
      if (!pick) {
        if (nextDeadline < Infinity) this.#arm(nextDeadline - now);
        return;
      }
      const batch = pick.items.splice(0, this.#opts.batchMax);
      if (pick.items.length === 0) this.#groups.delete(pick.key);
      this.#running++;
      const id = pick.model.id;
      this.#runningModels.set(id, (this.#runningModels.get(id) ?? 0) + 1);
      this.#run(pick, batch).finally(() => {
        this.#running--;
        const left = (this.#runningModels.get(id) ?? 1) - 1;
        if (left > 0) this.#runningModels.set(id, left);
        else this.#runningModels.delete(id);
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
    const run: RunningBatch = {
      key: group.key,
      items: ok,
      abort: new AbortController(),
      startedAt: performance.now(),
    };
    this.#runningBatches.add(run);
    try {
      if (ok.length === 0) return;
      this.#opts.metrics?.batchSize.observe(ok.length, labels);
      const scores = await group.model.scorer.score(
        { data, dims: [ok.length, c, h, w] },
        group.settings,
        { signal: run.abort.signal },
      );
      if (scores.length !== ok.length) {
        throw new Error(`Scorer returned ${scores.length} results for ${ok.length} images`);
      }
      const done = performance.now();
      this.#rate.record(group.key, ok.length, (done - run.startedAt) / 1000);
      ok.forEach((it, i) => {
        this.#opts.metrics?.imageSeconds.observe((done - it.queuedAt) / 1000, labels);
        it.resolve(scores[i]);
      });
    } catch (err) {
      for (const it of ok) it.reject(err);
    } finally {
      this.#runningBatches.delete(run);
      this.free(group.key, batch.length);
    }
  }
}
