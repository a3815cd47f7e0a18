/**
 * Valid seed files of every accepted format for the decoder fuzzer, made in-process (no fixtures):
 * PNG and JPEG and GIF through imagescript, TIFF (uncompressed and PackBits) byte by byte.
 * BMP is not an accepted format (it is refused with 415), so it has no seed.
 * @module
 */
import { Frame, GIF, Image } from "imagescript";

/** One seed file. */
export interface Seed {
  readonly format: "png" | "jpeg" | "gif" | "tiff";
  readonly name: string;
  readonly bytes: Uint8Array;
}

function noise(w: number, h: number, seed: number): Image {
  const img = new Image(w, h);
  let s = seed;
  for (let i = 0; i < w * h * 4; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    img.bitmap[i] = i % 4 === 3 ? 255 : (s >>> 16) & 255;
  }
  return img;
}

/** An 8-bit gray TIFF with one strip, uncompressed or PackBits (literal runs), little-endian. */
export function grayTiff(w: number, h: number, packBits: boolean): Uint8Array {
  const pixels = new Uint8Array(w * h).map((_, i) => (i * 37) & 255);
  let data = pixels;
  if (packBits) {
    const runs: number[] = [];
    for (let i = 0; i < pixels.length; i += 128) {
      const chunk = pixels.subarray(i, i + 128);
      runs.push(chunk.length - 1, ...chunk);
    }
    data = new Uint8Array(runs);
  }
  const entries: [number, number, number][] = [
    [256, 3, w],
    [257, 3, h],
    [258, 3, 8],
    [259, 3, packBits ? 32773 : 1],
    [262, 3, 1],
    [273, 4, 0], // filled below
    [277, 3, 1],
    [278, 3, h],
    [279, 4, data.length],
  ];
  const dataAt = 8 + 2 + entries.length * 12 + 4;
  const out = new Uint8Array(dataAt + data.length);
  const v = new DataView(out.buffer);
  out.set([0x49, 0x49, 0x2a, 0]);
  v.setUint32(4, 8, true);
  v.setUint16(8, entries.length, true);
  entries.forEach(([tag, type, value], k) => {
    const e = 10 + k * 12;
    v.setUint16(e, tag, true);
    v.setUint16(e + 2, type, true);
    v.setUint32(e + 4, 1, true);
    const x = tag === 273 ? dataAt : value;
    if (type === 3) v.setUint16(e + 8, x, true);
    else v.setUint32(e + 8, x, true);
  });
  out.set(data, dataAt);
  return out;
}

/** The seed corpus: small and medium files of each format. */
export async function makeSeeds(): Promise<Seed[]> {
  const small = noise(24, 16, 1);
  const medium = noise(200, 120, 2);
  const frames = [Frame.from(noise(20, 12, 3)), Frame.from(noise(20, 12, 4))];
  return [
    { format: "png", name: "small.png", bytes: await small.encode() },
    { format: "png", name: "medium.png", bytes: await medium.encode() },
    { format: "jpeg", name: "small.jpg", bytes: await small.encodeJPEG(85) },
    { format: "jpeg", name: "medium.jpg", bytes: await medium.encodeJPEG(70) },
    { format: "gif", name: "anim.gif", bytes: await new GIF(frames).encode() },
    { format: "tiff", name: "raw.tif", bytes: grayTiff(40, 30, false) },
    { format: "tiff", name: "packbits.tif", bytes: grayTiff(64, 48, true) },
  ];
}
