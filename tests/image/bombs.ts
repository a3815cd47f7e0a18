/**
 * Test helpers: the decompression-bomb files of issue 16, built byte by byte, and a generic TIFF
 * writer for crafted directories.
 * @module
 */

/**
 * The 35-byte GIF frame bomb: a 16×16 logical screen with a 2-colour global table and ONE image
 * descriptor of `frameW`×`frameH` at (0, 0), 2 bytes of LZW data, trailer. Extensions (raw bytes,
 * each starting with 0x21) are inserted before the descriptor, and `extraFrames` 1×1 frames
 * before it, so tests can check that the walk skips both correctly.
 */
export function gifFrameBomb(
  frameW = 16000,
  frameH = 16000,
  options: { extensions?: Uint8Array[]; extraFrames?: number } = {},
): Uint8Array {
  const out: number[] = [];
  out.push(...new TextEncoder().encode("GIF89a"));
  out.push(16, 0, 16, 0, 0x80, 0, 0); // screen 16×16, global table of 2 colours
  out.push(0, 0, 0, 255, 255, 255);
  for (const ext of options.extensions ?? []) out.push(...ext);
  for (let k = 0; k < (options.extraFrames ?? 0); k++) {
    out.push(0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x4c, 0x01, 0);
  }
  out.push(0x2c, 0, 0, 0, 0, frameW & 255, frameW >> 8, frameH & 255, frameH >> 8, 0);
  out.push(2, 2, 0x4c, 0x01, 0); // LZW min code size 2, one 2-byte sub-block, terminator
  out.push(0x3b);
  return new Uint8Array(out);
}

/** One TIFF directory entry: values are written inline when they fit, else after the IFD. */
export interface TiffEntry {
  readonly tag: number;
  /** 3 = SHORT, 4 = LONG. */
  readonly type: 3 | 4;
  readonly values: readonly number[];
}

/**
 * A little-endian TIFF with one IFD at offset 8 holding `entries`, out-of-line values after it,
 * then `data`; StripOffsets (273) is filled in to point at `data` when given with value -1.
 */
export function tiffFile(entries: readonly TiffEntry[], data: Uint8Array): Uint8Array {
  const ifdSize = 2 + entries.length * 12 + 4;
  let extra = 8 + ifdSize;
  const outOfLine = entries.map((e) => {
    const bytes = e.values.length * (e.type === 3 ? 2 : 4);
    if (bytes <= 4) return -1;
    const at = extra;
    extra += bytes;
    return at;
  });
  const dataAt = extra;
  const out = new Uint8Array(dataAt + data.length);
  const v = new DataView(out.buffer);
  out.set([0x49, 0x49, 0x2a, 0]);
  v.setUint32(4, 8, true);
  v.setUint16(8, entries.length, true);
  const put = (at: number, type: number, x: number) =>
    type === 3 ? v.setUint16(at, x, true) : v.setUint32(at, x, true);
  entries.forEach((e, k) => {
    const at = 10 + k * 12;
    v.setUint16(at, e.tag, true);
    v.setUint16(at + 2, e.type, true);
    v.setUint32(at + 4, e.values.length, true);
    const values = e.values.map((x) => x === -1 ? dataAt : x);
    const size = e.type === 3 ? 2 : 4;
    const base = outOfLine[k] < 0 ? at + 8 : outOfLine[k];
    if (outOfLine[k] >= 0) v.setUint32(at + 8, outOfLine[k], true);
    values.forEach((x, i) => put(base + i * size, e.type, x));
  });
  out.set(data, dataAt);
  return out;
}

/** PackBits data expanding to `n` zero bytes: 2 bytes per 128 (the 64:1 run). */
export function packBitsZeros(n: number): Uint8Array {
  const runs = Math.ceil(n / 128);
  const out = new Uint8Array(runs * 2);
  for (let r = 0; r < runs; r++) out[r * 2] = 0x81; // -127: repeat the next byte 128 times
  return out;
}

/** Entries of an 8-bit grayscale PackBits image of width × height with one strip. */
export function grayPackBitsEntries(
  width: TiffEntry,
  height: number,
  stripBytes: number,
): TiffEntry[] {
  return [
    width,
    { tag: 257, type: 3, values: [height] },
    { tag: 258, type: 3, values: [8] },
    { tag: 259, type: 3, values: [32773] },
    { tag: 262, type: 3, values: [1] },
    { tag: 273, type: 4, values: [-1] },
    { tag: 277, type: 3, values: [1] },
    { tag: 278, type: 4, values: [height] },
    { tag: 279, type: 4, values: [stripBytes] },
  ];
}

/**
 * The TIFF bypass: ImageWidth as LONG with count 2, so its value field is an offset
 * (where the real width, 60000, lives); 60000×1000 gray PackBits at 64:1 (≈ 940 KB).
 */
export function tiffWidthBypass(): Uint8Array {
  const data = packBitsZeros(60000 * 1000);
  const entries = grayPackBitsEntries(
    { tag: 256, type: 4, values: [60000, 0] },
    1000,
    data.length,
  );
  return tiffFile(entries, data);
}
