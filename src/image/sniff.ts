/**
 * Header sniffing: format and dimensions from the first bytes of a file, without decoding pixels.
 * The decoder consults this first so that a small file declaring a huge canvas (a decompression
 * bomb) is refused before any memory is allocated for it.
 * @module
 */
import { ApiError } from "../errors.ts";
import { GifSyntaxError, walkGif } from "./sniff_gif.ts";
import { parseTiff, tiffSize, TiffSyntaxError } from "./tiff_ifd.ts";
import type { ImageInfo } from "./types.ts";

/** Reads format and dimensions from the header only; throws 415 for unknown formats, 422 for broken headers. */
export function sniffImage(bytes: Uint8Array, name: string): ImageInfo {
  const b = bytes;
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return sniffPng(b, name);
  if (startsWith(b, [0xff, 0xd8, 0xff])) return sniffJpeg(b, name);
  if (startsWith(b, ascii("GIF87a")) || startsWith(b, ascii("GIF89a"))) return sniffGif(b, name);
  if (startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])) {
    return sniffTiff(b, name);
  }
  throw new ApiError(
    415,
    "unsupported_media_type",
    `Cannot decode image "${name}": unsupported format "${guessOtherFormat(b)}"`,
  );
}

/** Names formats we recognise but do not accept, so the error tells the user what they sent. */
function guessOtherFormat(b: Uint8Array): string {
  if (b.length === 0) return "empty";
  if (startsWith(b, ascii("RIFF")) && b.length >= 12 && eq(b.subarray(8, 12), ascii("WEBP"))) {
    return "webp";
  }
  if (startsWith(b, ascii("BM"))) return "bmp";
  if (b.length >= 12 && eq(b.subarray(4, 8), ascii("ftyp"))) {
    const brand = String.fromCharCode(...b.subarray(8, 12));
    if (brand.startsWith("avi")) return "avif";
    if (brand.startsWith("hei") || brand.startsWith("mif")) return "heic";
  }
  if (startsWith(b, [0x00, 0x00, 0x01, 0x00])) return "ico";
  if (startsWith(b, ascii("8BPS"))) return "psd";
  const head = new TextDecoder().decode(b.subarray(0, 256)).trimStart().toLowerCase();
  if (head.startsWith("<svg") || (head.startsWith("<?xml") && head.includes("<svg"))) return "svg";
  return "unknown";
}

function corrupt(name: string, what: string): ApiError {
  return new ApiError(422, "corrupt_image", `Cannot decode image "${name}": ${what}`);
}

function checked(info: ImageInfo, name: string): ImageInfo {
  if (info.width <= 0 || info.height <= 0) {
    throw corrupt(name, `${info.format} header declares ${info.width}x${info.height} pixels`);
  }
  return info;
}

function sniffPng(b: Uint8Array, name: string): ImageInfo {
  // Signature (8) + chunk length (4) + "IHDR" (4) + width (4) + height (4).
  if (b.length < 24) throw corrupt(name, "truncated PNG header");
  if (!eq(b.subarray(12, 16), ascii("IHDR"))) throw corrupt(name, "PNG does not start with IHDR");
  const v = view(b);
  return checked({ format: "png", width: v.getUint32(16), height: v.getUint32(20) }, name);
}

/** SOFn markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not. */
function isSof(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

function sniffJpeg(b: Uint8Array, name: string): ImageInfo {
  const v = view(b);
  let i = 2;
  while (true) {
    // Markers may be preceded by any number of 0xFF fill bytes.
    if (i >= b.length) throw corrupt(name, "truncated JPEG before the frame header");
    if (b[i] !== 0xff) throw corrupt(name, `invalid JPEG marker at byte ${i}`);
    while (i < b.length && b[i] === 0xff) i++;
    if (i >= b.length) throw corrupt(name, "truncated JPEG before the frame header");
    const marker = b[i++];
    // Standalone markers have no length field.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xd9 || marker === 0xda) {
      throw corrupt(name, "JPEG has no frame header before its image data");
    }
    if (i + 2 > b.length) throw corrupt(name, "truncated JPEG segment");
    const len = v.getUint16(i);
    if (len < 2) throw corrupt(name, `invalid JPEG segment length ${len}`);
    if (isSof(marker)) {
      // Length (2), precision (1), height (2), width (2).
      if (i + 7 > b.length) throw corrupt(name, "truncated JPEG frame header");
      return checked(
        { format: "jpeg", height: v.getUint16(i + 3), width: v.getUint16(i + 5) },
        name,
      );
    }
    i += len;
  }
}

function sniffGif(b: Uint8Array, name: string): ImageInfo {
  try {
    return checked(walkGif(b), name);
  } catch (e) {
    if (e instanceof GifSyntaxError) throw corrupt(name, e.message);
    throw e;
  }
}

/** Dimensions of the first IFD (the one decoded); `largest` covers every IFD of the file. */
function sniffTiff(b: Uint8Array, name: string): ImageInfo {
  try {
    const { ifds } = parseTiff(b);
    const info: ImageInfo = { format: "tiff", ...tiffSize(ifds[0]) };
    let largest = { width: info.width, height: info.height };
    for (const tags of ifds.slice(1)) {
      // Later IFDs may be non-image directories; only those declaring a size count.
      if (!tags.has(256) || !tags.has(257)) continue;
      const s = tiffSize(tags);
      if (s.width * s.height > largest.width * largest.height) largest = s;
    }
    return checked(
      largest.width === info.width && largest.height === info.height ? info : { ...info, largest },
      name,
    );
  } catch (e) {
    if (e instanceof TiffSyntaxError) throw corrupt(name, e.message);
    throw e;
  }
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

function startsWith(b: Uint8Array, prefix: readonly number[]): boolean {
  return b.length >= prefix.length && prefix.every((x, i) => b[i] === x);
}

function eq(a: Uint8Array, b: readonly number[]): boolean {
  return a.length === b.length && b.every((x, i) => a[i] === x);
}
