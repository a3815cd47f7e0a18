/**
 * Deterministic synthetic OOD images.
 * @module
 */

/**
 * mulberry32: a tiny 32-bit PRNG. Chosen because it is short, fast and gives the same stream
 * on every platform, so a noise set is reproducible from its spec alone.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Gray plane `index` of a uniform-noise set: every pixel uniform in 0..255. Image `index`
 * is generated from its own stream (seed ⊕ index mixed), so a slice does not depend on the
 * images before it.
 */
export function uniformNoise(
  seed: number,
  index: number,
  height: number,
  width: number,
): Uint8Array {
  const rand = mulberry32(
    (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0,
  );
  const plane = new Uint8Array(height * width);
  for (let i = 0; i < plane.length; i++) plane[i] = Math.floor(rand() * 256);
  return plane;
}
