/**
 * Strict TIFF directory (IFD) parsing, shared by the header sniff and the decoder so that both
 * read the SAME dimensions: an earlier sniff read ImageWidth's value field even when the entry's
 * count made that field an offset, and let a 60000-pixel-wide image past the limit.
 * Every entry's type, count and value offset is checked, and every IFD of the chain is read
 * (loops and runaway chains refused).
 * @module
 */

/** Thrown for a malformed TIFF; callers turn it into a 422. */
export class TiffSyntaxError extends Error {}

/** Tag values of one IFD; only integer-typed entries are kept (others are validated, then skipped). */
export type TiffTags = ReadonlyMap<number, readonly number[]>;

/** A parsed TIFF: byte order and every IFD of the main chain, first (decoded) one first. */
export interface TiffFile {
  readonly littleEndian: boolean;
  readonly ifds: readonly TiffTags[];
}

/** Bytes per value of each TIFF field type (TIFF 6.0 §2, types 1–12). */
const TYPE_SIZE: Readonly<Record<number, number>> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
};
/** Integer types whose values we read: BYTE, SHORT, LONG. */
const UNSIGNED = new Set([1, 3, 4]);
/** More IFDs than any real multi-page file we accept; bounds work on crafted chains. */
const MAX_IFDS = 64;
/** Tags whose value must be exactly one SHORT or LONG. */
const SCALAR_TAGS = [256, 257, 259, 262, 277, 278, 284];

/** Parses the header and every IFD; throws TiffSyntaxError on anything malformed. */
export function parseTiff(b: Uint8Array): TiffFile {
  if (b.length < 8) throw new TiffSyntaxError("truncated TIFF header");
  const le = b[0] === 0x49;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ifds: TiffTags[] = [];
  const seen = new Set<number>();
  let at = v.getUint32(4, le);
  while (at !== 0) {
    if (seen.has(at)) throw new TiffSyntaxError("TIFF directory chain loops");
    if (ifds.length === MAX_IFDS) {
      throw new TiffSyntaxError(`more than ${MAX_IFDS} TIFF directories`);
    }
    seen.add(at);
    const { tags, next } = readIfd(b, v, at, le);
    ifds.push(tags);
    at = next;
  }
  if (ifds.length === 0) throw new TiffSyntaxError("TIFF has no image directory");
  return { littleEndian: le, ifds };
}

function readIfd(
  b: Uint8Array,
  v: DataView,
  at: number,
  le: boolean,
): { tags: TiffTags; next: number } {
  if (at < 8 || at + 2 > b.length) {
    throw new TiffSyntaxError("TIFF directory offset outside the file");
  }
  const count = v.getUint16(at, le);
  if (count === 0) throw new TiffSyntaxError("empty TIFF directory");
  if (at + 2 + count * 12 + 4 > b.length) throw new TiffSyntaxError("truncated TIFF directory");
  const tags = new Map<number, number[]>();
  const types = new Map<number, number>();
  for (let k = 0; k < count; k++) {
    const e = at + 2 + k * 12;
    const tag = v.getUint16(e, le);
    const type = v.getUint16(e + 2, le);
    const n = v.getUint32(e + 4, le);
    const size = TYPE_SIZE[type];
    // TIFF 6.0: readers skip unknown types; nothing we read is ever of one.
    if (size === undefined) continue;
    if (n === 0) throw new TiffSyntaxError(`TIFF tag ${tag} has no values`);
    if (tags.has(tag)) throw new TiffSyntaxError(`TIFF tag ${tag} appears twice`);
    const bytes = size * n;
    // Values that fit in 4 bytes are stored inline; larger arrays live at an offset.
    const from = bytes <= 4 ? e + 8 : v.getUint32(e + 8, le);
    if (bytes > 4 && (from < 8 || from + bytes > b.length)) {
      throw new TiffSyntaxError(`TIFF tag ${tag} points outside the file`);
    }
    types.set(tag, type);
    if (!UNSIGNED.has(type)) continue;
    const values: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const p = from + i * size;
      values[i] = size === 1 ? b[p] : size === 2 ? v.getUint16(p, le) : v.getUint32(p, le);
    }
    tags.set(tag, values);
  }
  for (const tag of SCALAR_TAGS) {
    const type = types.get(tag);
    if (type === undefined) continue;
    if (type !== 3 && type !== 4) {
      throw new TiffSyntaxError(`TIFF tag ${tag} must be SHORT or LONG, has type ${type}`);
    }
    const x = tags.get(tag)!;
    if (x.length !== 1) {
      throw new TiffSyntaxError(`TIFF tag ${tag} must hold one value, has ${x.length}`);
    }
  }
  return { tags, next: v.getUint32(at + 2 + count * 12, le) };
}

/** The one value of a scalar tag, or `fallback`; throws when required and missing. */
export function tiffScalar(tags: TiffTags, tag: number, fallback?: number): number {
  const x = tags.get(tag)?.[0] ?? fallback;
  if (x === undefined) throw new TiffSyntaxError(`TIFF directory lacks tag ${tag}`);
  return x;
}

/** ImageWidth × ImageLength of one IFD (both required). */
export function tiffSize(tags: TiffTags): { width: number; height: number } {
  return { width: tiffScalar(tags, 256), height: tiffScalar(tags, 257) };
}
