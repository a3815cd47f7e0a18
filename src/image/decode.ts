/**
 * Image decoding: with `decode_tiff.ts` and `codec_png.ts`, the only code that reads pixel data
 * (imagescript's codecs).
 * Sniffs the header first and refuses oversized images before any pixel is decoded.
 * @module
 */
import { GIF, Image } from "imagescript";
import { ApiError } from "../errors.ts";
import { decodePngRgba } from "./codec_png.ts";
import { decodeTiff, TiffTooLargeError } from "./decode_tiff.ts";
import { applyOrientation, jpegOrientation } from "./exif.ts";
import { assertDataCovers } from "./coverage.ts";
import { sniffImage } from "./sniff.ts";
import type { DecodedImage, ImageInfo } from "./types.ts";

/** Limits applied while decoding. */
export interface DecodeOptions {
  /** Largest accepted width × height, checked on the header before decoding. */
  readonly maxPixels: number;
}

/**
 * Decodes a PNG, JPEG, GIF (first frame) or TIFF into upright 8-bit RGBA.
 * Throws ApiError 415 (unsupported format), 413 (too many pixels) or 422 (corrupt data).
 */
export async function decodeImage(
  bytes: Uint8Array,
  name: string,
  options: DecodeOptions,
): Promise<DecodedImage> {
  const info = sniffImage(bytes, name);
  assertDecodable(bytes, info, name, options.maxPixels);
  let width: number, height: number, bitmap: Uint8Array | Uint8ClampedArray;
  try {
    if (info.format === "gif") {
      const frames = await GIF.decode(bytes, true);
      if (frames.length === 0) throw new Error("no frames");
      ({ width, height, bitmap } = frames[0]);
    } else if (info.format === "tiff") {
      ({ width, height, data: bitmap } = decodeTiff(bytes, options.maxPixels));
    } else if (info.format === "png") {
      ({ width, height, data: bitmap } = await decodePngRgba(bytes));
    } else {
      ({ width, height, bitmap } = await Image.decode(bytes));
    }
  } catch (e) {
    if (e instanceof TiffTooLargeError) throw tooLarge(name, e, options.maxPixels);
    throw new ApiError(
      422,
      "corrupt_image",
      `Cannot decode image "${name}": ${info.format} data is corrupt or unsupported (${
        errorText(e)
      })`,
    );
  }
  // A decoder that disagrees with the header we vetted must not slip a larger image past the limit.
  if (width !== info.width || height !== info.height || bitmap.length !== width * height * 4) {
    throw new ApiError(
      422,
      "corrupt_image",
      `Cannot decode image "${name}": header says ${info.width}x${info.height} but data is ${width}x${height}`,
    );
  }
  const image: DecodedImage = {
    width,
    height,
    data: new Uint8Array(bitmap.buffer, bitmap.byteOffset, bitmap.length),
  };
  return info.format === "jpeg" ? applyOrientation(image, jpegOrientation(bytes)) : image;
}

/**
 * Longest side imagescript's codecs decode: from 2^24 pixels on, its PNG decoder fails (measured:
 * 16777215×1 and 1×16777215 decode, 16777216×1 and 1×16777216 fail), which read as "corrupt".
 */
export const MAX_SIDE = 16_777_215;

/**
 * All checks made on the header before decoding: the pixel limit, the side limit, and whether
 * the compressed data can cover the declared size (coverage.ts).
 * @throws {ApiError} 413 too large, 422 truncated.
 */
export function assertDecodable(
  bytes: Uint8Array,
  info: ImageInfo,
  name: string,
  maxPixels: number,
): void {
  assertWithinLimit(info, name, maxPixels);
  assertDataCovers(bytes, info, name);
}

/**
 * Refuses (413) an image, or any frame or sub-image it declares, above the pixel limit, or with
 * a side longer than `MAX_SIDE`.
 */
export function assertWithinLimit(info: ImageInfo, name: string, maxPixels: number): void {
  if (info.width * info.height > maxPixels) throw tooLarge(name, info, maxPixels);
  if (info.width > MAX_SIDE || info.height > MAX_SIDE) {
    throw new ApiError(
      413,
      "image_too_large",
      `Cannot decode image "${name}": a side of ${
        Math.max(info.width, info.height)
      } pixels exceeds the limit of ${MAX_SIDE}`,
    );
  }
  const big = info.largest;
  if (big && big.width * big.height > maxPixels) {
    const what = info.format === "gif" ? "a frame of " : "a sub-image of ";
    throw tooLarge(name, big, maxPixels, what);
  }
}

function tooLarge(
  name: string,
  size: { width: number; height: number },
  maxPixels: number,
  what = "",
): ApiError {
  return new ApiError(
    413,
    "image_too_large",
    `Cannot decode image "${name}": ${what}${size.width}x${size.height} pixels exceeds the limit of ${maxPixels}`,
  );
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
