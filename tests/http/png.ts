/**
 * Test helper: small PNGs (encoded with imagescript) and a bare PNG header for bomb tests
 * (built with the smoke script's dependency-free chunk writer).
 * @module
 */
import { Image } from "imagescript";
import { pngChunk } from "../../deploy/lib/png.ts";

/** Encodes 8-bit RGBA pixels (row-major) as a PNG file. */
export async function encodePng(
  width: number,
  height: number,
  rgba: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  const image = new Image(width, height);
  image.bitmap.set(rgba);
  return new Uint8Array(await image.encode());
}

/** A `size`×`size` opaque PNG whose red channel is `red` everywhere (the fake model scores red/255). */
export function solidPng(red: number, size = 2): Promise<Uint8Array<ArrayBuffer>> {
  const px = new Uint8Array(size * size * 4);
  for (let i = 0; i < size * size; i++) px.set([red, 0, 0, 255], i * 4);
  return encodePng(size, size, px);
}

/** A PNG signature + IHDR declaring `width`×`height` with no pixel data (a decompression-bomb header). */
export function bombPngHeader(width: number, height: number): Uint8Array<ArrayBuffer> {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const sig = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const c = pngChunk("IHDR", ihdr);
  const out = new Uint8Array(sig.length + c.length);
  out.set(sig);
  out.set(c, sig.length);
  return out;
}
