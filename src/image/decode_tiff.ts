/**
 * A small baseline-TIFF decoder: 8-bit gray/RGB/RGBA, chunky, uncompressed or PackBits, both
 * byte orders. imagescript 1.3.1's TIFF codec traps ("memory access out of bounds") on every
 * TIFF we tried and only accepts little-endian files, so the common uncompressed case is
 * decoded here; other TIFF variants are refused as unsupported.
 * @module
 */

/** Decoded RGBA pixels. */
export interface TiffPixels {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 6: 1, 7: 1, 8: 2, 9: 4 };

/** Decodes the first image of a TIFF; throws Error with a short reason on anything unsupported. */
export function decodeTiff(b: Uint8Array): TiffPixels {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = b[0] === 0x49;
  const ifd = v.getUint32(4, le);
  const count = v.getUint16(ifd, le);
  const tags = new Map<number, number[]>();
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + k * 12;
    const tag = v.getUint16(e, le);
    const type = v.getUint16(e + 2, le);
    const n = v.getUint32(e + 4, le);
    const size = TYPE_SIZE[type];
    if (size === undefined) continue;
    // Values that fit in 4 bytes are stored inline; larger arrays live at an offset.
    const at = size * n <= 4 ? e + 8 : v.getUint32(e + 8, le);
    if (at + size * n > b.length) throw new Error(`tag ${tag} points outside the file`);
    const values: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = at + i * size;
      values.push(size === 1 ? b[p] : size === 2 ? v.getUint16(p, le) : v.getUint32(p, le));
    }
    tags.set(tag, values);
  }
  const one = (tag: number, fallback?: number): number => {
    const x = tags.get(tag)?.[0] ?? fallback;
    if (x === undefined) throw new Error(`missing tag ${tag}`);
    return x;
  };
  const width = one(256);
  const height = one(257);
  const samples = one(277, 1);
  const compression = one(259, 1);
  const photometric = one(262);
  const bits = tags.get(258) ?? [1];
  if (bits.some((x) => x !== 8)) throw new Error(`unsupported ${bits[0]}-bit samples`);
  if (one(284, 1) !== 1) throw new Error("unsupported planar configuration");
  if (compression !== 1 && compression !== 32773) {
    throw new Error(`unsupported compression ${compression}`);
  }
  if (photometric > 2 || (photometric === 2 ? samples < 3 : samples > 2)) {
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
