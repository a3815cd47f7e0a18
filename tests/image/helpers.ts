/**
 * Test helpers that build small image files byte by byte (formats imagescript cannot encode,
 * and headers with chosen values).
 * @module
 */

/**
 * An uncompressed 8-bit RGB or RGBA (samples = 4, unassociated alpha) TIFF with one strip,
 * in the chosen byte order.
 */
export function makeTiff(
  width: number,
  height: number,
  pixels: Uint8Array,
  littleEndian = true,
  shortDims = true,
  samples: 3 | 4 = 3,
): Uint8Array {
  const entries: [tag: number, type: number, count: number, value: number][] = [];
  const ifdOffset = 8;
  const nEntries = samples === 4 ? 11 : 10;
  const ifdSize = 2 + nEntries * 12 + 4;
  const bpsOffset = ifdOffset + ifdSize;
  const dataOffset = bpsOffset + 2 * samples;
  const rgb = pixels;
  const dimType = shortDims ? 3 : 4;
  entries.push([256, dimType, 1, width]);
  entries.push([257, dimType, 1, height]);
  entries.push([258, 3, samples, bpsOffset]);
  entries.push([259, 3, 1, 1]);
  entries.push([262, 3, 1, 2]);
  entries.push([273, 4, 1, dataOffset]);
  entries.push([277, 3, 1, samples]);
  entries.push([278, 3, 1, height]);
  entries.push([279, 4, 1, rgb.length]);
  entries.push([284, 3, 1, 1]);
  if (samples === 4) entries.push([338, 3, 1, 2]);
  const out = new Uint8Array(dataOffset + rgb.length);
  const v = new DataView(out.buffer);
  const le = littleEndian;
  out.set(le ? [0x49, 0x49, 0x2a, 0] : [0x4d, 0x4d, 0, 0x2a]);
  v.setUint32(4, ifdOffset, le);
  v.setUint16(ifdOffset, nEntries, le);
  entries.forEach(([tag, type, count, value], k) => {
    const e = ifdOffset + 2 + k * 12;
    v.setUint16(e, tag, le);
    v.setUint16(e + 2, type, le);
    v.setUint32(e + 4, count, le);
    if (type === 3 && count === 1) v.setUint16(e + 8, value, le);
    else v.setUint32(e + 8, value, le);
  });
  v.setUint32(ifdOffset + 2 + nEntries * 12, 0, le);
  for (let k = 0; k < samples; k++) v.setUint16(bpsOffset + 2 * k, 8, le);
  out.set(rgb, dataOffset);
  return out;
}

/** A PNG signature + IHDR chunk declaring the given size, and nothing else. */
export function pngHeader(width: number, height: number): Uint8Array {
  const out = new Uint8Array(33);
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const v = new DataView(out.buffer);
  v.setUint32(16, width);
  v.setUint32(20, height);
  out.set([8, 6, 0, 0, 0], 24); // 8-bit RGBA; CRC left zero: the sniffer must not need it
  return out;
}

/** Inserts an APP1 EXIF segment with the given orientation right after a JPEG's SOI marker. */
export function withExifOrientation(jpeg: Uint8Array, orientation: number, le = false): Uint8Array {
  const tiff = new Uint8Array(8 + 2 + 12 + 4);
  const v = new DataView(tiff.buffer);
  tiff.set(le ? [0x49, 0x49, 0x2a, 0] : [0x4d, 0x4d, 0, 0x2a]);
  v.setUint32(4, 8, le);
  v.setUint16(8, 1, le);
  v.setUint16(10, 0x0112, le);
  v.setUint16(12, 3, le);
  v.setUint32(14, 1, le);
  v.setUint16(18, orientation, le);
  const payload = new Uint8Array(6 + tiff.length);
  payload.set([0x45, 0x78, 0x69, 0x66, 0, 0]);
  payload.set(tiff, 6);
  const seg = new Uint8Array(4 + payload.length);
  seg.set([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 255]);
  seg.set(payload, 4);
  const out = new Uint8Array(jpeg.length + seg.length);
  out.set(jpeg.subarray(0, 2));
  out.set(seg, 2);
  out.set(jpeg.subarray(2), 2 + seg.length);
  return out;
}
