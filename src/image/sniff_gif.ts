/**
 * GIF header walk: the logical screen AND every image descriptor, so a small file whose frame
 * descriptor declares a huge frame (the decoder allocates frame width × height × 4 bytes whatever
 * the screen size) is refused before decoding. Extension blocks and their sub-blocks are skipped
 * by their lengths; an unknown block is refused rather than guessed past, so the decoder cannot
 * see a frame this walk did not. Only the first frame is decoded (`GIF.decode(bytes, true)`), so
 * the frame count does not multiply memory; every descriptor is still checked against the limit.
 * @module
 */
import type { ImageInfo } from "./types.ts";

/** Thrown for a malformed GIF; `sniff.ts` turns it into a 422. */
export class GifSyntaxError extends Error {}

/** Reads the logical screen and every frame descriptor of a GIF (signature already checked). */
export function walkGif(b: Uint8Array): ImageInfo {
  if (b.length < 13) throw new GifSyntaxError("truncated GIF header");
  const u16 = (at: number) => b[at] | (b[at + 1] << 8);
  const width = u16(6);
  const height = u16(8);
  let i = 13 + colorTableSize(b[10]);
  let frames = 0;
  let largest = { width: 0, height: 0 };
  // A file cut short simply has no more frames: the decoder cannot decode what is not there.
  while (i < b.length) {
    const block = b[i++];
    if (block === 0x3b) break; // trailer
    if (block === 0x21) {
      i = skipSubBlocks(b, i + 1); // label byte, then data sub-blocks
    } else if (block === 0x2c) {
      if (i + 9 > b.length) break;
      const fw = u16(i + 4);
      const fh = u16(i + 6);
      frames++;
      if (fw * fh > largest.width * largest.height) largest = { width: fw, height: fh };
      i += 9 + colorTableSize(b[i + 8]);
      i = skipSubBlocks(b, i + 1); // LZW minimum code size, then data sub-blocks
    } else {
      throw new GifSyntaxError(`unknown GIF block 0x${block.toString(16)} at byte ${i - 1}`);
    }
  }
  if (frames === 0) throw new GifSyntaxError("GIF has no image descriptor");
  const info: ImageInfo = { format: "gif", width, height };
  return largest.width * largest.height > width * height ? { ...info, largest } : info;
}

/** Bytes of the colour table announced by a packed field (0 when the flag bit is clear). */
function colorTableSize(packed: number): number {
  return packed & 0x80 ? 3 * 2 ** ((packed & 7) + 1) : 0;
}

/** Skips data sub-blocks (length byte + data, ended by a zero length); returns the next offset. */
function skipSubBlocks(b: Uint8Array, i: number): number {
  while (i < b.length) {
    const n = b[i++];
    if (n === 0) return i;
    i += n;
  }
  return i;
}
