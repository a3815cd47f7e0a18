/**
 * Mutators of the decoder fuzzer: generic byte-level ones (bit flips, interesting bytes,
 * truncation, slice duplication/deletion) and format-aware ones (PNG chunk duplication with
 * valid CRCs, size-field lies in PNG IHDR, JPEG SOF, GIF screen/frame descriptors, TIFF entries).
 * @module
 */
import { crc32 } from "../../deploy/lib/png.ts";
import type { Seed } from "./seeds.ts";

/** A seeded PRNG (mulberry32), so a run is reproducible from its seed. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

/** Sizes a lying header may claim: edges of the limits and of the integer types. */
const SIZE_LIES = [0, 1, 2, 255, 256, 4095, 4096, 4097, 8192, 16000, 32767, 65535];
const SIZE_LIES_32 = [...SIZE_LIES, 65536, 100000, 2 ** 24, 2 ** 31 - 1, 2 ** 32 - 1];
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x10, 0x40];

type Mutator = (b: Uint8Array, rng: Rng, seed: Seed) => Uint8Array;

const bitFlips: Mutator = (b, rng) => {
  const out = b.slice();
  for (let k = 1 + rng.int(16); k > 0; k--) out[rng.int(out.length)] ^= 1 << rng.int(8);
  return out;
};

const interestingBytes: Mutator = (b, rng) => {
  const out = b.slice();
  for (let k = 1 + rng.int(4); k > 0; k--) out[rng.int(out.length)] = rng.pick(INTERESTING);
  return out;
};

const truncate: Mutator = (b, rng) => b.slice(0, rng.int(b.length));

const duplicateSlice: Mutator = (b, rng) => {
  const from = rng.int(b.length);
  const len = 1 + rng.int(Math.min(512, b.length - from));
  const at = rng.int(b.length);
  return concat(b.subarray(0, at), b.subarray(from, from + len), b.subarray(at));
};

const deleteSlice: Mutator = (b, rng) => {
  const from = rng.int(b.length);
  return concat(b.subarray(0, from), b.subarray(from + 1 + rng.int(64)));
};

/** PNG: duplicate one chunk (IHDR, IDAT, IEND…) right after itself; CRCs stay valid. */
const pngDuplicateChunk: Mutator = (b, rng) => {
  const chunks = pngChunks(b);
  if (chunks.length === 0) return bitFlips(b, rng, {} as Seed);
  const [at, len] = rng.pick(chunks);
  const chunk = b.subarray(at, at + 12 + len);
  return concat(b.subarray(0, at + 12 + len), chunk, b.subarray(at + 12 + len));
};

/** PNG: IHDR width/height lie, CRC recomputed so only the size is wrong. */
const pngSizeLie: Mutator = (b, rng) => {
  const out = b.slice();
  const v = new DataView(out.buffer);
  v.setUint32(16 + 4 * rng.int(2), rng.pick(SIZE_LIES_32));
  if (rng.int(3) === 0) v.setUint32(16, rng.pick(SIZE_LIES));
  v.setUint32(29, crc32(out.subarray(12, 29)));
  return out;
};

/** JPEG: the SOF frame's height/width or any segment's length lies. */
const jpegSizeLie: Mutator = (b, rng) => {
  const out = b.slice();
  const v = new DataView(out.buffer);
  const segs = jpegSegments(b);
  const sof = segs.find(([, m]) => m >= 0xc0 && m <= 0xc3);
  if (sof && rng.int(3) > 0) v.setUint16(sof[0] + 5 + 2 * rng.int(2), rng.pick(SIZE_LIES));
  else if (segs.length > 0) v.setUint16(rng.pick(segs)[0] + 2, rng.pick(SIZE_LIES));
  return out;
};

/** JPEG: duplicate one segment (a second SOF, DHT, DQT…). */
const jpegDuplicateSegment: Mutator = (b, rng) => {
  const segs = jpegSegments(b);
  if (segs.length === 0) return bitFlips(b, rng, {} as Seed);
  const [at] = rng.pick(segs);
  const len = 2 + ((b[at + 2] << 8) | b[at + 3]);
  return concat(b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len));
};

/** GIF: logical screen or an image descriptor (any 0x2c after the header) claims another size. */
const gifSizeLie: Mutator = (b, rng) => {
  const out = b.slice();
  const v = new DataView(out.buffer);
  const descriptors = gifDescriptors(out);
  const at = descriptors.length > 0 && rng.int(3) > 0 ? rng.pick(descriptors) + 5 : 6;
  const lie = rng.int(2) === 0 ? rng.pick(SIZE_LIES) : rng.int(65536);
  v.setUint16(at + 2 * rng.int(2), lie, true);
  if (rng.int(2) === 0) v.setUint16(at + 2 * rng.int(2), rng.int(65536), true);
  return out;
};

/** TIFF: one IFD entry's type, count or value lies (sizes, offsets, byte counts). */
const tiffEntryLie: Mutator = (b, rng) => {
  const out = b.slice();
  if (out.length < 10) return out;
  const v = new DataView(out.buffer);
  const le = out[0] === 0x49;
  const ifd = v.getUint32(4, le);
  if (ifd + 2 > out.length) return bitFlips(b, rng, {} as Seed);
  const n = v.getUint16(ifd, le);
  const e = ifd + 2 + 12 * rng.int(Math.max(1, n));
  if (e + 12 > out.length) return out;
  const field = rng.int(3);
  if (field === 0) v.setUint16(e + 2, rng.pick([1, 3, 4, 5, 7, 16]), le);
  else if (field === 1) v.setUint32(e + 4, rng.pick([0, 1, 2, 3, 1000, 2 ** 30]), le);
  else v.setUint32(e + 8, rng.pick(SIZE_LIES_32), le);
  return out;
};

const GENERIC: readonly Mutator[] = [
  bitFlips,
  interestingBytes,
  truncate,
  duplicateSlice,
  deleteSlice,
];
const BY_FORMAT: Readonly<Record<Seed["format"], readonly Mutator[]>> = {
  png: [pngDuplicateChunk, pngSizeLie],
  jpeg: [jpegSizeLie, jpegDuplicateSegment],
  gif: [gifSizeLie],
  tiff: [tiffEntryLie],
};

/** One format-blind mutation (bit flips, interesting bytes, truncation, slice copies). */
export function mutateBlind(bytes: Uint8Array, rng: Rng): { bytes: Uint8Array; how: string } {
  const m = rng.pick(GENERIC);
  return { bytes: bytes.length > 0 ? m(bytes, rng, undefined as never) : bytes, how: m.name };
}

/** One mutated input: 1–3 stacked mutations, half of them format-aware. */
export function mutate(seed: Seed, rng: Rng): { bytes: Uint8Array; how: string[] } {
  let bytes = seed.bytes;
  const how: string[] = [];
  for (let k = 1 + rng.int(3); k > 0 && bytes.length > 0; k--) {
    const pool = rng.int(2) === 0 ? GENERIC : BY_FORMAT[seed.format];
    const m = rng.pick(pool);
    try {
      bytes = m(bytes, rng, seed);
      how.push(m.name);
    } catch (e) {
      // A format-aware mutator can meet a file already cut too short for its field: skip it.
      if (!(e instanceof RangeError)) throw e;
    }
  }
  return { bytes, how };
}

/** [offset, data length] of each PNG chunk. */
function pngChunks(b: Uint8Array): [number, number][] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: [number, number][] = [];
  for (let at = 8; at + 12 <= b.length;) {
    const len = v.getUint32(at);
    if (at + 12 + len > b.length) break;
    out.push([at, len]);
    at += 12 + len;
  }
  return out;
}

/** [offset of 0xFF, marker] of each JPEG segment with a length, up to the scan. */
function jpegSegments(b: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  for (let at = 2; at + 4 <= b.length && b[at] === 0xff;) {
    const marker = b[at + 1];
    out.push([at, marker]);
    if (marker === 0xda) break;
    at += 2 + ((b[at + 2] << 8) | b[at + 3]);
  }
  return out;
}

/** Offsets of the GIF image descriptors (0x2C), found by walking blocks and sub-blocks. */
function gifDescriptors(b: Uint8Array): number[] {
  const table = (p: number) => (p & 0x80 ? 3 * 2 ** ((p & 7) + 1) : 0);
  const skip = (i: number) => {
    while (i < b.length && b[i] !== 0) i += b[i] + 1;
    return i + 1;
  };
  const out: number[] = [];
  let i = 13 + table(b[10]);
  while (i < b.length) {
    if (b[i] === 0x21) i = skip(i + 2);
    else if (b[i] === 0x2c && i + 10 < b.length) {
      out.push(i);
      i = skip(i + 11 + table(b[i + 9]));
    } else break;
  }
  return out;
}

/** The bytes of `parts`, one after the other. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
