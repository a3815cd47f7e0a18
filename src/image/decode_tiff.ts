/**
 * A small baseline-TIFF decoder: 8-bit gray/RGB/RGBA, chunky, uncompressed or PackBits, both
 * byte orders. imagescript 1.3.1's TIFF codec traps ("memory access out of bounds") on every
 * TIFF we tried and only accepts little-endian files, so the common uncompressed case is
 * decoded here; other TIFF variants (Deflate and LZW included) are refused as unsupported.
 * Output is bounded by the declared size: strips are copied or unpacked into a buffer of exactly
 * width × height × samples bytes, and surplus data is ignored.
 * @module
 */
import { parseTiff, tiffScalar, tiffSize } from "./tiff_ifd.ts";

/** Decoded RGBA pixels. */
export interface TiffPixels {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Thrown when the decoder's own reading of the size exceeds the limit (→ 413, not 422). */
export class TiffTooLargeError extends Error {
  constructor(readonly width: number, readonly height: number) {
    super(`${width}x${height} pixels`);
  }
}

/**
 * Decodes the first image of a TIFF; throws Error with a short reason on anything unsupported,
 * and TiffTooLargeError BEFORE allocating when its width × height exceeds `maxPixels` (the
 * decoder checks its own reading, not only the sniffed header).
 */
export function decodeTiff(b: Uint8Array, maxPixels: number): TiffPixels {
  const { ifds } = parseTiff(b);
  const tags = ifds[0];
  const one = (tag: number, fallback?: number) => tiffScalar(tags, tag, fallback);
  const { width, height } = tiffSize(tags);
  if (width * height > maxPixels) throw new TiffTooLargeError(width, height);
  if (width === 0 || height === 0) throw new Error(`empty ${width}x${height} image`);
  const samples = one(277, 1);
  const compression = one(259, 1);
  const photometric = one(262);
  const bits = tags.get(258) ?? [1];
  if ((bits.length !== 1 && bits.length !== samples) || bits.some((x) => x !== 8)) {
    throw new Error(`unsupported ${bits[0]}-bit samples`);
  }
  if (one(284, 1) !== 1) throw new Error("unsupported planar configuration");
  if (compression !== 1 && compression !== 32773) {
    throw new Error(`unsupported compression ${compression}`);
  }
  // At most 4 samples: the raw buffer is width × height × samples bytes.
  if (
    samples > 4 || photometric > 2 || (photometric === 2 ? samples < 3 : samples > 2)
  ) {
    throw new Error(`unsupported photometric ${photometric} with ${samples} samples`);
  }
  const offsets = tags.get(273) ?? [];
  const counts = tags.get(279) ?? [];
  if (offsets.length === 0 || offsets.length !== counts.length) throw new Error("bad strips");
  const need = width * height * samples;
  const raw = new Uint8Array(need);
  let filled = 0;
  for (let s = 0; s < offsets.length && filled < need; s++) {
    if (offsets[s] + counts[s] > b.length) throw new Error("strip outside the file");
    const strip = b.subarray(offsets[s], offsets[s] + counts[s]);
    filled += compression === 1 ? copyInto(raw, filled, strip) : unpackBits(strip, raw, filled);
  }
  if (filled < need) throw new Error("image data is truncated");
  return { width, height, data: toRgba(raw, width * height, samples, photometric) };
}

function copyInto(dst: Uint8Array, at: number, src: Uint8Array): number {
  const n = Math.min(src.length, dst.length - at);
  dst.set(src.subarray(0, n), at);
  return n;
}

/** PackBits (Apple RLE), compression 32773. Returns how many bytes were written. */
function unpackBits(src: Uint8Array, dst: Uint8Array, at: number): number {
  let i = 0;
  let o = at;
  while (i < src.length && o < dst.length) {
    const h = (src[i++] << 24) >> 24;
    if (h >= 0) {
      const n = Math.min(h + 1, dst.length - o, src.length - i);
      dst.set(src.subarray(i, i + n), o);
      i += h + 1;
      o += n;
    } else if (h !== -128) {
      const n = Math.min(1 - h, dst.length - o);
      dst.fill(src[i++], o, o + n);
      o += n;
    }
  }
  return o - at;
}

function toRgba(raw: Uint8Array, pixels: number, samples: number, photometric: number): Uint8Array {
  const out = new Uint8Array(pixels * 4);
  for (let p = 0; p < pixels; p++) {
    const s = p * samples;
    const o = p * 4;
    if (photometric === 2) {
      out[o] = raw[s];
      out[o + 1] = raw[s + 1];
      out[o + 2] = raw[s + 2];
      out[o + 3] = samples >= 4 ? raw[s + 3] : 255;
    } else {
      // 0 = WhiteIsZero, 1 = BlackIsZero.
      const g = photometric === 0 ? 255 - raw[s] : raw[s];
      out[o] = out[o + 1] = out[o + 2] = g;
      out[o + 3] = samples >= 2 ? raw[s + 1] : 255;
    }
  }
  return out;
}
