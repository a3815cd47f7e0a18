/**
 * How fast the batcher drains its queue, measured: seconds of scorer time per image, per
 * (model, settings) key, as an exponentially weighted mean over finished batches. Before any
 * batch of a key finished, the mean over all keys stands in, and before any batch at all, a
 * configured prior. Back-pressure (which requests to refuse, what `Retry-After` to send) is
 * derived from these numbers, so a slow model gets a long `Retry-After` and a short queue.
 * @module
 */

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

  /** True once at least one batch has been measured. */
  get measured(): boolean {
    return this.#any !== undefined;
  }
}
