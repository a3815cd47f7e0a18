/**
 * Image contracts: what decoding produces and what a header sniff reports.
 * @module
 */

/** Formats the service accepts. */
export type ImageFormat = "png" | "jpeg" | "gif" | "tiff";

/** What the file header says, read without decoding pixels (decompression-bomb guard). */
export interface ImageInfo {
  readonly format: ImageFormat;
  readonly width: number;
  readonly height: number;
  /**
   * The largest frame (GIF image descriptor) or sub-image (TIFF IFD) when it has more pixels than
   * `width` × `height`: decoders allocate for it, so the pixel limit applies to it too.
   */
  readonly largest?: { readonly width: number; readonly height: number };
}

/** A decoded image: 8-bit RGBA, row-major, EXIF orientation already applied. */
export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}
