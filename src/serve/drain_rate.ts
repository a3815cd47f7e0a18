/**
 * How fast the batcher drains its queue, measured: seconds of scorer time per image, per
 * (model, settings) key, as an exponentially weighted mean over finished batches. Before any
 * batch of a key finished, the mean over all keys stands in, and before any batch at all, a
 * configured prior. Back-pressure (which requests to refuse, what `Retry-After` to send) is
 * derived from these numbers, so a slow model gets a long `Retry-After` and a short queue.
 * @module
 */
import { ApiError } from "../errors.ts";

/** Weight of the newest batch in the running mean: adapts within a few batches. */
const ALPHA = 0.3;

/** Measured seconds per image, per key. */
export class DrainRate {
  readonly #perKey = new Map<string, number>();
  #any: number | undefined;
  readonly #priorSecondsPerImage: number;

  /** @param priorImagesPerSecond the rate assumed before any batch has finished (> 0). */
  constructor(priorImagesPerSecond: number) {
    this.#priorSecondsPerImage = 1 / priorImagesPerSecond;
  }

  /** Records a finished scorer call of `images` images that took `seconds`. */
  record(key: string, images: number, seconds: number): void {
    if (images <= 0 || !(seconds >= 0)) return;
    const spi = seconds / images;
    const old = this.#perKey.get(key);
    this.#perKey.set(key, old === undefined ? spi : old + ALPHA * (spi - old));
    this.#any = this.#any === undefined ? spi : this.#any + ALPHA * (spi - this.#any);
  }

  /** Expected scorer seconds for one image of `key` (measured, else any key's, else the prior). */
  secondsPerImage(key?: string): number {
    return (key === undefined ? undefined : this.#perKey.get(key)) ?? this.#any ??
      this.#priorSecondsPerImage;
  }

  /** True once a batch of `key` has been measured (its graphs are compiled and warm). */
  has(key: string): boolean {
    return this.#perKey.has(key);
  }

  /** True once at least one batch has been measured. */
  get measured(): boolean {
    return this.#any !== undefined;
  }
}

/** A batch being scored, as the drain schedule sees it. */
export interface RunningSnapshot {
  readonly key: string;
  readonly images: number;
  /** Seconds since it started. */
  readonly elapsedS: number;
}

/** One step of the drain schedule: `images` finish `at` seconds from now. */
export interface DrainEvent {
  readonly at: number;
  readonly images: number;
}

/**
 * When the admitted images will be scored, batch by batch: the running batches finish after
 * their expected time less what they already ran; the waiting images follow in batches of up to
 * `batchMax` per key. Images finish a batch at a time, so back-pressure derived from this
 * schedule (rather than from a fluid images/s) tells a refused client when room will really free.
 */
export function drainSchedule(
  rate: DrainRate,
  running: readonly RunningSnapshot[],
  outstanding: ReadonlyMap<string, number>,
  batchMax: number,
  concurrency = 1,
): DrainEvent[] {
  const events: DrainEvent[] = [];
  const waiting = new Map(outstanding);
  let t = 0;
  for (const r of running) {
    const at = Math.max(0, r.images * rate.secondsPerImage(r.key) - r.elapsedS);
    events.push({ at, images: r.images });
    t = Math.max(t, at);
    waiting.set(r.key, (waiting.get(r.key) ?? 0) - r.images);
  }
  for (const [key, n] of waiting) {
    for (let left = n; left > 0; left -= batchMax) {
      const images = Math.min(batchMax, left);
      t += (images * rate.secondsPerImage(key)) / concurrency;
      events.push({ at: t, images });
    }
  }
  return events.sort((a, b) => a.at - b.at);
}

/** What admission weighs against the drain schedule. */
export interface AdmissionAsk {
  /** Images admitted now. */
  readonly reserved: number;
  /** Images asked for. */
  readonly count: number;
  readonly queueMax: number;
  /** Longest acceptable wait (seconds) before the request's first image is scored. */
  readonly limit: number;
  /** The request's drain rate, for the message. */
  readonly imagesPerSecond: number;
  /**
   * Seconds of work promised to clients refused earlier and told to come back: added to
   * `Retry-After`, so refused clients queue up in time instead of all retrying together.
   */
  readonly promisedSeconds?: number;
}

/**
 * The 503 for a request that does not fit now, or undefined when it does. It fits when the
 * images fit the queue and the wait ahead is within `limit` (an empty queue always qualifies).
 * `Retry-After` is the first time on the schedule at which it would fit.
 */
export function refusal(events: readonly DrainEvent[], ask: AdmissionAsk): ApiError | undefined {
  const fits = (ahead: number, reserved: number) =>
    reserved + ask.count <= ask.queueMax && (ahead === 0 || ahead <= ask.limit);
  const end = events.at(-1)?.at ?? 0;
  if (fits(end, ask.reserved)) return undefined;
  let freed = 0;
  const when = events.find((e) => fits(end - e.at, ask.reserved - (freed += e.images)))?.at ?? end;
  const why = ask.reserved + ask.count > ask.queueMax
    ? `${ask.reserved} of ${ask.queueMax} queue slots are in use`
    : `the queue ahead needs about ${end.toFixed(1)} s at ${ask.imagesPerSecond.toFixed(2)} ` +
      `images/s, over the wait limit of ${Math.max(0, ask.limit).toFixed(1)} s`;
  const retry = Math.min(3600, Math.max(1, Math.ceil(when + (ask.promisedSeconds ?? 0))));
  return new ApiError(503, "overloaded", `Cannot queue ${ask.count} image(s): ${why}`, {
    "retry-after": String(retry),
  });
}

/**
 * Scoring work promised to clients refused with a `Retry-After`: each refusal adds the seconds
 * its images will take, until the client is due back. Adding their sum to the next refusal's
 * `Retry-After` sends refused clients back one after another, not all at the same second (87
 * refused clients all told 20 s came back together, and 74 were refused again).
 */
export class RetryBook {
  #entries: { until: number; seconds: number }[] = [];

  /** Seconds of work promised to clients not yet due back. */
  seconds(now = performance.now()): number {
    this.#entries = this.#entries.filter((e) => e.until > now);
    return this.#entries.reduce((s, e) => s + e.seconds, 0);
  }

  /** A client told to retry in `retryS` seconds will bring `seconds` of work. */
  add(retryS: number, seconds: number, now = performance.now()): void {
    this.#entries.push({ until: now + retryS * 1000, seconds });
  }
}
