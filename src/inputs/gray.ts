/**
 * Grayscale planes as decoded images.
 * @module
 */
import type { DecodedImage } from "../image/types.ts";

/**
 * Turns one 8-bit gray plane (row-major, 0 = black) into RGBA with R = G = B = v and A = 255,
 * which is what decoding a grayscale PNG of the same pixels yields.
 */
export function grayToImage(plane: Uint8Array, height: number, width: number): DecodedImage {
  if (plane.length !== height * width) {
    throw new RangeError(`gray plane has ${plane.length} pixels, expected ${height}x${width}`);
  }
  const data = new Uint8Array(plane.length * 4);
  for (let i = 0; i < plane.length; i++) {
    const v = plane[i];
    data[4 * i] = v;
    data[4 * i + 1] = v;
    data[4 * i + 2] = v;
    data[4 * i + 3] = 255;
  }
  return { width, height, data };
}
