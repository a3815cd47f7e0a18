/**
 * Decode cost bounded by the bytes sent: a file whose compressed data is too short to encode the
 * pixels its header declares is truncated (or forged), and is refused (422) before decoding.
 * imagescript's JPEG decoder fills a missing scan with garbage instead of failing: a 704-byte
 * JPEG declaring 4096×4096 took 0.6–0.8 s and +150 MB to "decode" and was then scored.
 *
 * The bounds are the formats' own best cases, so no valid file is refused:
 * - JPEG, Huffman-coded sequential: every 8×8 block of every component costs at least one bit for
 *   its DC difference and one for its end-of-block code (Huffman codes are 1–16 bits long), so
 *   the data after the first SOS holds at least blocks / 4 bytes. Progressive: the DC scans alone
 *   need one bit per block (AC scans may skip whole bands with EOB runs), so blocks / 8 bytes.
 *   Arithmetic-coded, lossless and hierarchical JPEGs are not bounded here.
 * - PNG: deflate expands at most 1032:1 (a 258-byte match coded in 2 bits), so the IDAT chunks
 *   hold at least rows × (1 + row bytes) / 1032 bytes.
 * GIF and TIFF are not bounded here: the TIFF decoder refuses missing strips itself, and
 * imagescript's GIF decoder fails on a short frame (an 80-byte GIF declaring 4096×4096: 422 after
 * 44–51 ms and +70 MB, measured).
 * @module
 */
import { ApiError } from "../errors.ts";
import type { ImageInfo } from "./types.ts";

/** Deflate's largest expansion ratio. */
const DEFLATE_MAX_RATIO = 1032;

function truncated(name: string, info: ImageInfo, have: number, need: number): ApiError {
  return new ApiError(
    422,
    "corrupt_image",
    `Cannot decode image "${name}": its ${info.format} data (${have} bytes) is too short for ` +
      `${info.width}x${info.height} pixels (at least ${need} bytes); the file is truncated`,
  );
}

/**
 * Refuses (422) an image whose compressed data cannot cover its declared size (see module doc).
 * Malformed structure is left to the decoder, which reports it in its own words.
 */
export function assertDataCovers(bytes: Uint8Array, info: ImageInfo, name: string): void {
  const need = info.format === "jpeg"
    ? jpegNeed(bytes)
    : info.format === "png"
    ? pngNeed(bytes, info)
    : undefined;
  if (!need || need.have >= need.bytes) return;
  throw truncated(name, info, need.have, Math.ceil(need.bytes));
}

interface Need {
  /** Compressed bytes present. */
  readonly have: number;
  /** The fewest that could encode the declared pixels. */
  readonly bytes: number;
}

/** Blocks per component from a SOF segment's body (at `at`: precision, height, width, ...). */
function jpegBlocks(b: Uint8Array, at: number): number | undefined {
  const height = (b[at + 1] << 8) | b[at + 2];
  const width = (b[at + 3] << 8) | b[at + 4];
  const n = b[at + 5];
  if (at + 6 + 3 * n > b.length || n === 0) return undefined;
  let hMax = 1, vMax = 1;
  for (let k = 0; k < n; k++) {
    const hv = b[at + 7 + 3 * k];
    hMax = Math.max(hMax, hv >> 4);
    vMax = Math.max(vMax, hv & 15);
  }
  let blocks = 0;
  for (let k = 0; k < n; k++) {
    const hv = b[at + 7 + 3 * k];
    const w = Math.ceil((width * Math.max(1, hv >> 4)) / hMax);
    const h = Math.ceil((height * Math.max(1, hv & 15)) / vMax);
    blocks += Math.ceil(w / 8) * Math.ceil(h / 8);
  }
  return blocks;
}

/** Walks JPEG segments to the first SOS; undefined when the file is not one we bound. */
function jpegNeed(b: Uint8Array): Need | undefined {
  let i = 2;
  let bitsPerBlock: number | undefined;
  let blocks: number | undefined;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return undefined;
    while (i < b.length && b[i] === 0xff) i++;
    const marker = b[i++];
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xd9 || i + 2 > b.length) return undefined;
    const len = (b[i] << 8) | b[i + 1];
    if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) {
      bitsPerBlock = marker === 0xc2 ? 1 : 2;
      blocks = jpegBlocks(b, i + 2);
    } else if (marker >= 0xc3 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return undefined; // lossless, hierarchical or arithmetic-coded: not bounded here
    }
    if (marker === 0xda) {
      if (!bitsPerBlock || !blocks) return undefined;
      return { have: Math.max(0, b.length - (i + len)), bytes: (blocks * bitsPerBlock) / 8 };
    }
    i += len;
  }
  // No scan at all: at least one block's worth of data is missing.
  return bitsPerBlock && blocks ? { have: 0, bytes: (blocks * bitsPerBlock) / 8 } : undefined;
}

/** Bits per pixel of a PNG colour type and bit depth. */
function pngBitsPerPixel(colorType: number, depth: number): number | undefined {
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colorType];
  return channels === undefined ? undefined : channels * depth;
}

/** Sums the IDAT chunk lengths (stops at IEND or where the chunk structure ends). */
function pngNeed(b: Uint8Array, info: ImageInfo): Need | undefined {
  if (b.length < 33) return undefined;
  const bpp = pngBitsPerPixel(b[25], b[24]);
  if (!bpp) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let have = 0;
  for (let i = 8; i + 8 <= b.length;) {
    const len = v.getUint32(i);
    const type = String.fromCharCode(b[i + 4], b[i + 5], b[i + 6], b[i + 7]);
    if (type === "IDAT") have += Math.min(len, b.length - (i + 8));
    if (type === "IEND") break;
    i += 12 + len;
  }
  const raw = info.height * (1 + Math.ceil((info.width * bpp) / 8));
  return { have, bytes: raw / DEFLATE_MAX_RATIO };
}
