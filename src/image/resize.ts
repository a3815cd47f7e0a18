/**
 * Resampling of float planes. Shrinking must average (not pick) pixels, otherwise a large
 * upload aliases into noise that the OOD score would then flag; enlarging interpolates.
 * Both are separable: rows first, then columns, each through a table of weights.
 *
 * Bilinear and bicubic follow Pillow's `Image.resize` (which torchvision's `Resize` calls on PIL
 * images, and which `antialias=True` reproduces on tensors): pixel centres at half-integers, the
 * filter widened by the scale factor when shrinking, weights renormalised at the edges. With
 * `arithmetic: "pillow"` the passes also repeat Pillow's 8-bit fixed-point arithmetic (22-bit
 * coefficients, each pass rounded and clamped to 0..255), so that 8-bit inputs give exactly
 * Pillow's pixels; `"float"` keeps full precision, as torchvision does on float tensors.
 * @module
 */

/** Resampling methods offered by manifests. */
export type ResizeMethod = "area" | "bilinear" | "bicubic";
/** "float": full precision; "pillow": Pillow's 8-bit fixed-point passes (inputs 0..255). */
export type ResizeArithmetic = "float" | "pillow";

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

/** A resampling kernel: weight at distance x (in filter units) and where it ends. */
interface Filter {
  readonly support: number;
  weight(x: number): number;
}

const TRIANGLE: Filter = {
  support: 1,
  weight(x) {
    x = Math.abs(x);
    return x < 1 ? 1 - x : 0;
  },
};

/** Keys' cubic convolution with a = −0.5, Pillow's (and torch's antialiased) bicubic. */
const CUBIC: Filter = {
  support: 2,
  weight(x) {
    const a = -0.5;
    x = Math.abs(x);
    if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
    return 0;
  },
};

/**
 * Area averaging: each output pixel is the mean of the source area it covers, fractional
 * pixels weighted by the covered fraction. Only used when shrinking.
 */
function areaTaps(src: number, dst: number, from: number, count: number): Taps {
  const scale = src / dst;
  const start = new Int32Array(count);
  const weights: Float64Array[] = [];
  for (let i = from; i < from + count; i++) {
    const lo = i * scale;
    const hi = (i + 1) * scale;
    const first = Math.floor(lo);
    const last = Math.min(src - 1, Math.ceil(hi) - 1);
    const w = new Float64Array(last - first + 1);
    for (let j = first; j <= last; j++) {
      w[j - first] = (Math.min(hi, j + 1) - Math.max(lo, j)) / scale;
    }
    start[i - from] = first;
    weights.push(w);
  }
  return { start, weights };
}

/**
 * A filter's taps exactly as Pillow's `precompute_coeffs` computes them (same operations in the
 * same order, so that the fixed-point coefficients derived from them are bit-identical).
 */
function filterTaps(src: number, dst: number, from: number, count: number, filter: Filter): Taps {
  const scale = src / dst;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const ss = 1 / filterScale;
  const start = new Int32Array(count);
  const weights: Float64Array[] = [];
  for (let i = from; i < from + count; i++) {
    const centre = (i + 0.5) * scale;
    const first = Math.max(0, Math.trunc(centre - support + 0.5));
    const end = Math.min(src, Math.trunc(centre + support + 0.5));
    const w = new Float64Array(Math.max(0, end - first));
    let sum = 0;
    for (let k = 0; k < w.length; k++) {
      w[k] = filter.weight((k + first - centre + 0.5) * ss);
      sum += w[k];
    }
    if (sum !== 0) { for (let k = 0; k < w.length; k++) w[k] /= sum; }
    start[i - from] = first;
    weights.push(w);
  }
  return { start, weights };
}

/** Taps of output indices from..from+count−1 of a src → dst resampling. */
function taps(src: number, dst: number, method: ResizeMethod, from = 0, count = dst): Taps {
  if (method === "bicubic") return filterTaps(src, dst, from, count, CUBIC);
  // Area averaging has nothing to average when enlarging; interpolate instead.
  return method === "area" && dst < src
    ? areaTaps(src, dst, from, count)
    : filterTaps(src, dst, from, count, TRIANGLE);
}

/** A rectangle of the resized image: only these pixels are computed (the center crop). */
export interface Window {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Resizes a plane to width × height and returns the `window` of the result (default: all of it).
 * Each output pixel depends on the source only, so a window costs in proportion to its own size
 * and a long thin upload resized by its shorter side cannot blow up memory. Returns the input
 * itself when nothing changes. `"pillow"` needs pixel values 0..255 and bilinear or bicubic.
 */
export function resizePlane(
  p: Plane,
  width: number,
  height: number,
  method: ResizeMethod,
  arithmetic: ResizeArithmetic = "float",
  window: Window = { left: 0, top: 0, width, height },
): Plane {
  const same = p.width === width && p.height === height;
  if (same && window.width === width && window.height === height) return p;
  if (arithmetic === "pillow" && method === "area") {
    throw new Error('Pillow arithmetic needs "bilinear" or "bicubic"');
  }
  const tx = taps(p.width, width, method, window.left, window.width);
  const ty = taps(p.height, height, method, window.top, window.height);
  if (arithmetic === "pillow") {
    // Pillow runs a pass only along an axis whose size changes (else the pass is an identity).
    const h = width === p.width ? crop(p, window.left, window.width) : pillowPass(p, tx, true);
    return height === p.height ? cropRows(h, window.top, window.height) : pillowPass(h, ty, false);
  }
  // Horizontal pass: [height_src, window] in float64 to keep the two passes from compounding rounding.
  const ow = window.width, oh = window.height;
  const mid = new Float64Array(p.height * ow);
  for (let y = 0; y < p.height; y++) {
    const row = y * p.width;
    for (let x = 0; x < ow; x++) {
      const w = tx.weights[x];
      const s = row + tx.start[x];
      let acc = 0;
      for (let k = 0; k < w.length; k++) acc += w[k] * p.data[s + k];
      mid[y * ow + x] = acc;
    }
  }
  const out = new Float32Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    const w = ty.weights[y];
    const s = ty.start[y];
    for (let x = 0; x < ow; x++) {
      let acc = 0;
      for (let k = 0; k < w.length; k++) acc += w[k] * mid[(s + k) * ow + x];
      out[y * ow + x] = acc;
    }
  }
  return { width: ow, height: oh, data: out };
}

/** Columns left..left+count−1 of every row. */
function crop(p: Plane, left: number, count: number): Plane {
  const data = new Float32Array(p.height * count);
  for (let y = 0; y < p.height; y++) {
    data.set(p.data.subarray(y * p.width + left, y * p.width + left + count), y * count);
  }
  return { width: count, height: p.height, data };
}

/** Rows top..top+count−1. */
function cropRows(p: Plane, top: number, count: number): Plane {
  const data = p.data.slice(top * p.width, (top + count) * p.width);
  return { width: p.width, height: count, data };
}

/** Pillow's PRECISION_BITS for 8-bit images (32 − 8 − 2). */
const PRECISION = 2 ** 22;

/** Pillow's `normalize_coeffs_8bpc`: weights to 22-bit fixed point, rounded half away from 0. */
function fixedPoint(t: Taps): Taps {
  const weights = t.weights.map((w) =>
    w.map((v) => v < 0 ? Math.trunc(-0.5 + v * PRECISION) : Math.trunc(0.5 + v * PRECISION))
  );
  return { start: t.start, weights };
}

/**
 * One Pillow 8-bit pass along x or y with fixed-point taps: integer sums with a rounding bias of
 * half a unit, then `clip8` (arithmetic shift, clamp to 0..255).
 */
function pillowPass(src: Plane, t: Taps, alongX: boolean): Plane {
  const k22 = fixedPoint(t);
  const width = alongX ? t.start.length : src.width;
  const height = alongX ? src.height : t.start.length;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = alongX ? x : y;
      const w = k22.weights[i];
      const base = alongX ? y * src.width + t.start[i] : t.start[i] * src.width + x;
      const stride = alongX ? 1 : src.width;
      let acc = PRECISION / 2;
      for (let k = 0; k < w.length; k++) acc += src.data[base + k * stride] * w[k];
      out[y * width + x] = Math.min(255, Math.max(0, Math.floor(acc / PRECISION)));
    }
  }
  return { width, height, data: out };
}
