/**
 * Manifest-driven pre-processing: decoded RGBA → the model's float32 [C, H, W] input.
 *
 * Order: alpha composite → colour (gray luma or RGB) → resize → center crop → pad → scale →
 * replicate → per-channel (x − mean) / std. Arithmetic follows PyTorch in float32 (ToTensor
 * divides uint8 by 255; Normalize subtracts then divides), so that an 8-bit image of the training
 * size gives bit-identical inputs to the training pipeline. Resize-shorter-side plus center crop
 * is torchvision's ImageNet evaluation transform (`Resize(256)`, `CenterCrop(224)`); EXIF
 * orientation was applied by the decoder (`decode.ts`), so the crop is taken from the upright
 * photo.
 * @module
 */
import type { InputSpec, PreprocessSpec } from "./spec.ts";
import { type Plane, resizePlane } from "./resize.ts";
import type { DecodedImage } from "./types.ts";

/** The manifest steps a pre-processor is built from: plain data, so a worker can rebuild it. */
export interface PreprocessJob {
  readonly preprocess: PreprocessSpec;
  readonly input: InputSpec;
}

/**
 * Turns a decoded image into a float32 [C, H, W] tensor. `job` (set by `createPreprocessor`) lets
 * the decode pool run the same steps in its worker, next to the decoder.
 */
export type Preprocessor = ((image: DecodedImage) => Float32Array) & {
  readonly job?: PreprocessJob;
};

/**
 * Builds the pre-processor of a manifest. Throws if the manifest's steps do not produce the
 * declared input shape.
 */
export function createPreprocessor(spec: PreprocessSpec, input: InputSpec): Preprocessor {
  const { pad } = spec;
  const inner = innerSize(spec);
  const height = inner.height + pad.top + pad.bottom;
  const width = inner.width + pad.left + pad.right;
  const channels = (spec.color === "gray" ? 1 : 3) * spec.replicate;
  if (height !== input.height || width !== input.width || channels !== input.channels) {
    throw new Error(
      `Pre-processing gives [${channels},${height},${width}] but the model input is ` +
        `[${input.channels},${input.height},${input.width}]`,
    );
  }
  const mean = perChannel(spec.mean, channels, "mean");
  const std = perChannel(spec.std, channels, "std");
  const divisor = reciprocalInteger(spec.scale);
  const scale = Math.fround(spec.scale);
  const background = spec.background;

  const run = (image: DecodedImage): Float32Array => {
    const planes = colourPlanes(image, spec.color, background);
    const out = new Float32Array(channels * height * width);
    const hw = height * width;
    const [rw, rh] = resizedSize(spec.resize, image.width, image.height);
    // torchvision's CenterCrop: offsets int(round((size − crop) / 2)), Python's round-half-even.
    const top = roundHalfEven((rh - inner.height) / 2);
    const left = roundHalfEven((rw - inner.width) / 2);
    planes.forEach((p, k) => {
      // Only the cropped window is resampled: the rest would be thrown away.
      const sized = resizePlane(p, rw, rh, spec.resize.method, spec.resize.arithmetic, {
        left,
        top,
        ...inner,
      });
      const scaled = new Float32Array(hw);
      for (let y = 0; y < height; y++) {
        const sy = y - pad.top;
        for (let x = 0; x < width; x++) {
          const sx = x - pad.left;
          const inside = sy >= 0 && sy < inner.height && sx >= 0 && sx < inner.width;
          const v = inside ? sized.data[sy * inner.width + sx] : pad.value;
          // Float32Array stores round to float32, as torch does after each op.
          scaled[y * width + x] = divisor ? v / divisor : Math.fround(v) * scale;
        }
      }
      for (let r = 0; r < spec.replicate; r++) {
        const c = r * planes.length + k;
        const m = mean[c], s = std[c];
        const o = c * hw;
        for (let i = 0; i < hw; i++) out[o + i] = Math.fround(scaled[i] - m) / s;
      }
    });
    return out;
  };
  return Object.assign(run, { job: { preprocess: spec, input } });
}

/** The image size after resize and crop, before padding (fixed for a valid manifest). */
function innerSize(spec: PreprocessSpec): { width: number; height: number } {
  if (spec.crop) return spec.crop;
  const { width, height } = spec.resize;
  if (width === undefined || height === undefined) {
    throw new Error("Pre-processing that resizes the shorter side needs a crop");
  }
  return { width, height };
}

/**
 * [width, height] after the manifest's resize: the fixed size, or torchvision's `Resize(int)`
 * rule — the shorter side becomes `shorter`, the longer one `int(shorter · long / short)`.
 */
export function resizedSize(
  resize: PreprocessSpec["resize"],
  width: number,
  height: number,
): [number, number] {
  const s = resize.shorter;
  if (s === undefined) return [resize.width!, resize.height!];
  if (width <= height) return [s, Math.trunc((s * height) / width)];
  return [Math.trunc((s * width) / height), s];
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d !== 0.5) return Math.round(x);
  return f % 2 === 0 ? f : f + 1;
}

/** Expands 1 or C values to C float32 values. */
function perChannel(values: readonly number[], channels: number, what: string): Float32Array {
  if (values.length !== 1 && values.length !== channels) {
    throw new Error(
      `Pre-processing ${what} has ${values.length} values, expected 1 or ${channels}`,
    );
  }
  return Float32Array.from({ length: channels }, (_, c) => values[values.length === 1 ? 0 : c]);
}

/** n when scale is 1/n for an integer n (so 1/255 divides by 255 exactly, like ToTensor). */
function reciprocalInteger(scale: number): number | undefined {
  const n = Math.round(1 / scale);
  return n >= 1 && Math.abs(1 / scale - n) < 1e-9 * n ? n : undefined;
}

/**
 * Composites alpha over the background gray level (rounded to 8 bits, as an image library
 * would) and returns pixel-unit planes: one luma plane for "gray", R, G, B for "rgb".
 * Luma is ITU-R BT.601 with PIL's fixed-point rounding, so gray pixels stay exactly gray.
 */
function colourPlanes(img: DecodedImage, color: "gray" | "rgb", background: number): Plane[] {
  const n = img.width * img.height;
  const d = img.data;
  const planes = Array.from({ length: color === "gray" ? 1 : 3 }, () => new Float32Array(n));
  for (let i = 0; i < n; i++) {
    const a = d[4 * i + 3];
    let r = d[4 * i], g = d[4 * i + 1], b = d[4 * i + 2];
    if (a !== 255) {
      r = Math.round((r * a + background * (255 - a)) / 255);
      g = Math.round((g * a + background * (255 - a)) / 255);
      b = Math.round((b * a + background * (255 - a)) / 255);
    }
    if (color === "gray") {
      planes[0][i] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
    } else {
      planes[0][i] = r;
      planes[1][i] = g;
      planes[2][i] = b;
    }
  }
  return planes.map((data) => ({ width: img.width, height: img.height, data }));
}
