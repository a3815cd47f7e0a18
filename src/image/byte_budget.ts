/**
 * A counting semaphore over bytes: decodes reserve their estimated decoded size before they start
 * and wait (FIFO) while the reservations of other decodes, from any request, would exceed the
 * budget. This is what bounds decoder memory across concurrent requests.
 * @module
 */

/** A FIFO byte semaphore. */
export class ByteBudget {
  readonly capacity: number;
  #used = 0;
  readonly #waiting: { bytes: number; go: () => void }[] = [];

  /** @param capacity most bytes reserved at once (≥ 1). */
  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`ByteBudget capacity must be ≥ 1, got ${capacity}`);
    this.capacity = capacity;
  }

  /** Bytes reserved now. */
  get used(): number {
    return this.#used;
  }

  /** Reservations waiting for room. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Reserves `bytes` (clamped to the capacity, so one oversized request runs alone rather than
   * never) once earlier waiters are served; resolves to the release function (idempotent).
   */
  async acquire(bytes: number): Promise<() => void> {
    const n = Math.min(Math.max(0, bytes), this.capacity);
    if (this.#waiting.length > 0 || this.#used + n > this.capacity) {
      await new Promise<void>((go) => this.#waiting.push({ bytes: n, go }));
    } else this.#used += n;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#used -= n;
      this.#wake();
    };
  }

  #wake(): void {
    // Strict FIFO: a large waiter at the head is not starved by smaller ones behind it.
    while (this.#waiting.length > 0 && this.#used + this.#waiting[0].bytes <= this.capacity) {
      const w = this.#waiting.shift()!;
      this.#used += w.bytes;
      w.go();
    }
  }
}
