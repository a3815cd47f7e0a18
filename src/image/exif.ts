/**
 * JPEG EXIF orientation: read the tag from the APP1 segment and apply it to RGBA pixels.
 * Phones store portrait photos landscape plus an orientation tag; the model must see what
 * the user saw.
 * @module
 */
import type { DecodedImage } from "./types.ts";

/** The EXIF orientation (1–8) of a JPEG, or 1 when absent or unreadable. */
export function jpegOrientation(b: Uint8Array): number {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let i = 2;
  while (i + 4 <= b.length && b[i] === 0xff) {
    const marker = b[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return 1; // image data starts: no EXIF before it
    const len = v.getUint16(i + 2);
    if (len < 2) return 1;
    if (marker === 0xe1) {
      const o = exifOrientation(b.subarray(i + 4, Math.min(b.length, i + 2 + len)));
      if (o !== undefined) return o;
    }
    i += 2 + len;
  }
  return 1;
}

/** Orientation from an APP1 payload ("Exif\0\0" + TIFF structure), undefined if not EXIF. */
function exifOrientation(p: Uint8Array): number | undefined {
  if (p.length < 14 || String.fromCharCode(...p.subarray(0, 6)) !== "Exif\0\0") return undefined;
  const t = p.subarray(6);
  const v = new DataView(t.buffer, t.byteOffset, t.byteLength);
  const order = String.fromCharCode(t[0], t[1]);
  if (order !== "II" && order !== "MM") return undefined;
  const le = order === "II";
  const ifd = v.getUint32(4, le);
  if (ifd + 2 > t.length) return undefined;
  const count = v.getUint16(ifd, le);
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + k * 12;
    if (e + 12 > t.length) return undefined;
    if (v.getUint16(e, le) === 0x0112) {
      const o = v.getUint16(e + 8, le);
      return o >= 1 && o <= 8 ? o : 1;
    }
  }
  return undefined;
}

/**
 * Applies an EXIF orientation so that the result is upright. Orientations 5–8 swap width and
 * height; 1 (or anything unknown) returns the image unchanged.
 */
export function applyOrientation(img: DecodedImage, orientation: number): DecodedImage {
  if (orientation < 2 || orientation > 8) return img;
  const { width: w, height: h, data } = img;
  const swap = orientation >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  // Whole-pixel moves via 32-bit views; copy first if the bytes are not 4-aligned.
  const bytes = data.byteOffset % 4 === 0 ? data : data.slice();
  const src = new Uint32Array(bytes.buffer, bytes.byteOffset, w * h);
  const outData = new Uint8Array(ow * oh * 4);
  const out = new Uint32Array(outData.buffer);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      // (sx, sy): the stored pixel shown at (x, y) after the EXIF transform.
      let sx: number, sy: number;
      switch (orientation) {
        case 2:
          [sx, sy] = [w - 1 - x, y];
          break; // mirror horizontal
        case 3:
          [sx, sy] = [w - 1 - x, h - 1 - y];
          break; // rotate 180
        case 4:
          [sx, sy] = [x, h - 1 - y];
          break; // mirror vertical
        case 5:
          [sx, sy] = [y, x];
          break; // transpose
        case 6:
          [sx, sy] = [y, h - 1 - x];
          break; // rotate 90 clockwise
        case 7:
          [sx, sy] = [w - 1 - y, h - 1 - x];
          break; // transverse
        default:
          [sx, sy] = [w - 1 - y, x];
          break; // 8: rotate 90 counter-clockwise
      }
      out[y * ow + x] = src[sy * w + sx];
    }
  }
  return { width: ow, height: oh, data: outData };
}
