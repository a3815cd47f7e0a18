/**
 * Random gray crops of larger images: builds a real-image OOD set (textures, photographs) at a
 * classifier's input size from a few big pictures, e.g. scikit-image's sample data.
 *
 * Crop `i` (deterministic from seed and i, independent of the other crops): a source image
 * chosen uniformly; a square of side s uniform in [min(2·max(H,W), m), max(m/2, that)] pixels,
 * m the source's shorter side; its top-left corner uniform; converted to gray with
 * ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B, alpha ignored); shrunk to H×W by area
 * averaging; rounded to bytes.
 * @module
 */
import type { DecodedImage } from "../image/types.ts";
import { mulberry32 } from "./noise.ts";

/** Luma plane of an RGBA image, as floats 0–255. */
export function luma(image: DecodedImage): Float32Array {
  const out = new Float32Array(image.width * image.height);
  const d = image.data;
  for (let i = 0; i < out.length; i++) {
    out[i] = 0.299 * d[4 * i] + 0.587 * d[4 * i + 1] + 0.114 * d[4 * i + 2];
  }
  return out;
}

/**
 * Area-averages the square `[x0, x0+s) × [y0, y0+s)` of a plane of width `w` into `H×W` bytes.
 * Each output pixel averages the source pixels whose centres fall in its cell.
 */
export function shrinkSquare(
  plane: Float32Array,
  w: number,
  x0: number,
  y0: number,
  s: number,
  H: number,
  W: number,
): Uint8Array {
  const out = new Uint8Array(H * W);
  for (let y = 0; y < H; y++) {
    const ya = y0 + Math.floor((y * s) / H),
      yb = y0 + Math.max(Math.floor(((y + 1) * s) / H), Math.floor((y * s) / H) + 1);
    for (let x = 0; x < W; x++) {
      const xa = x0 + Math.floor((x * s) / W),
        xb = x0 + Math.max(Math.floor(((x + 1) * s) / W), Math.floor((x * s) / W) + 1);
      let sum = 0;
      for (let yy = ya; yy < yb; yy++) for (let xx = xa; xx < xb; xx++) sum += plane[yy * w + xx];
      out[y * W + x] = Math.round(sum / ((yb - ya) * (xb - xa)));
    }
  }
  return out;
}

/** Where crop `index` lies: which source, corner and side (see the module doc). */
export function cropPlan(
  seed: number,
  index: number,
  sizes: ReadonlyArray<{ width: number; height: number }>,
  H: number,
  W: number,
): { source: number; x0: number; y0: number; side: number } {
  const rand = mulberry32(
    (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0,
  );
  const source = Math.floor(rand() * sizes.length);
  const { width, height } = sizes[source];
  const m = Math.min(width, height);
  const lo = Math.min(2 * Math.max(H, W), m);
  const hi = Math.max(Math.floor(m / 2), lo);
  const side = lo + Math.floor(rand() * (hi - lo + 1));
  const x0 = Math.floor(rand() * (width - side + 1));
  const y0 = Math.floor(rand() * (height - side + 1));
  return { source, x0, y0, side };
}
