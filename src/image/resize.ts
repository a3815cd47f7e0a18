/**
 * Resampling of float planes. Shrinking must average (not pick) pixels, otherwise a large
 * upload aliases into noise that the OOD score would then flag; enlarging interpolates.
 * Both are separable: rows first, then columns, each through a table of weights.
 * @module
 */

/** Resampling methods offered by manifests. */
export type ResizeMethod = "area" | "bilinear";

/** A single-channel float image, row-major. */
export interface Plane {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** For each output index: the first source index and the weights from there on (sum 1). */
interface Taps {
  readonly start: Int32Array;
  readonly weights: Float64Array[];
}

/**
 * Area averaging: each output pixel is the mean of the source area it covers, fractional
 * pixels weighted by the covered fraction. Only used when shrinking.
 */
function areaTaps(src: number, dst: number): Taps {
  const scale = src / dst;
  const start = new Int32Array(dst);
  const weights: Float64Array[] = [];
  for (let i = 0; i < dst; i++) {
    const lo = i * scale;
    const hi = (i + 1) * scale;
    const first = Math.floor(lo);
    const last = Math.min(src - 1, Math.ceil(hi) - 1);
    const w = new Float64Array(last - first + 1);
    for (let j = first; j <= last; j++) {
      w[j - first] = (Math.min(hi, j + 1) - Math.max(lo, j)) / scale;
    }
    start[i] = first;
    weights.push(w);
  }
  return { start, weights };
}

/**
 * Triangle (bilinear) filter with pixel centres at half-integers; when shrinking the filter is
 * widened by the scale factor (anti-aliasing, as PIL does); at the edges weights renormalise.
 */
function triangleTaps(src: number, dst: number): Taps {
  const scale = src / dst;
  const support = Math.max(scale, 1);
  const start = new Int32Array(dst);
  const weights: Float64Array[] = [];
  for (let i = 0; i < dst; i++) {
    const centre = (i + 0.5) * scale;
    const first = Math.max(0, Math.floor(centre - support));
    const last = Math.min(src - 1, Math.ceil(centre + support));
    const w = new Float64Array(last - first + 1);
    let sum = 0;
    for (let j = first; j <= last; j++) {
      const x = Math.abs((j + 0.5 - centre) / support);
      const v = x < 1 ? 1 - x : 0;
      w[j - first] = v;
      sum += v;
    }
    for (let k = 0; k < w.length; k++) w[k] /= sum;
    start[i] = first;
    weights.push(w);
  }
  return { start, weights };
}

function taps(src: number, dst: number, method: ResizeMethod): Taps {
  // Area averaging has nothing to average when enlarging; interpolate instead.
  return method === "area" && dst < src ? areaTaps(src, dst) : triangleTaps(src, dst);
}

/** Resizes a plane; returns the input itself when the size already matches (no resampling). */
export function resizePlane(p: Plane, width: number, height: number, method: ResizeMethod): Plane {
  if (p.width === width && p.height === height) return p;
  const tx = taps(p.width, width, method);
  const ty = taps(p.height, height, method);
  // Horizontal pass: [height_src, width] in float64 to keep the two passes from compounding rounding.
  const mid = new Float64Array(p.height * width);
  for (let y = 0; y < p.height; y++) {
    const row = y * p.width;
    for (let x = 0; x < width; x++) {
      const w = tx.weights[x];
      const s = row + tx.start[x];
      let acc = 0;
      for (let k = 0; k < w.length; k++) acc += w[k] * p.data[s + k];
      mid[y * width + x] = acc;
    }
  }
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const w = ty.weights[y];
    const s = ty.start[y];
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let k = 0; k < w.length; k++) acc += w[k] * mid[(s + k) * width + x];
      out[y * width + x] = acc;
    }
  }
  return { width, height, data: out };
}
