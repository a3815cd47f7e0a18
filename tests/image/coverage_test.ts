import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { Image } from "imagescript";
import { pngChunk } from "../../deploy/lib/png.ts";
import { concat } from "../../tools/fuzz/mutate.ts";
import { ApiError } from "../../src/errors.ts";
import { decodeImage } from "../../src/image/decode.ts";

const LIMIT = { maxPixels: 16_777_216 };

async function refusal(bytes: Uint8Array, maxPixels = LIMIT.maxPixels): Promise<ApiError> {
  try {
    await decodeImage(bytes, "x", { maxPixels });
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("decoded without an error");
}

/** A real JPEG whose SOF0 frame header is rewritten to declare `width`×`height`. */
async function jpegDeclaring(width: number, height: number): Promise<Uint8Array> {
  const small = new Image(16, 16).fill(0x808080ff);
  const jpeg = new Uint8Array(await small.encodeJPEG(90));
  for (let i = 2; i < jpeg.length;) {
    const marker = jpeg[i + 1];
    if (marker === 0xc0) {
      new DataView(jpeg.buffer).setUint16(i + 5, height);
      new DataView(jpeg.buffer).setUint16(i + 7, width);
      return jpeg;
    }
    i += 2 + ((jpeg[i + 2] << 8) | jpeg[i + 3]);
  }
  throw new Error("no SOF0");
}

/** A valid 8-bit grey PNG of zeros (best-case compression), optionally with IDAT cut short. */
function grayPng(width: number, height: number, keepIdat = Infinity): Uint8Array {
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr[8] = 8;
  const idat = new Uint8Array(deflateSync(new Uint8Array(height * (1 + width)), { level: 9 }));
  return concat(
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", idat.subarray(0, Math.min(keepIdat, idat.length))),
    pngChunk("IEND", new Uint8Array()),
  );
}

Deno.test("decodeImage() refuses a small JPEG declaring 4096x4096 as truncated, before decoding", async () => {
  const forged = await jpegDeclaring(4096, 4096);
  assert.ok(forged.length < 2000, `${forged.length} bytes`);
  const e = await refusal(forged);
  assert.equal(e.status, 422);
  assert.equal(e.code, "corrupt_image");
  assert.match(
    e.message,
    /too short for 4096x4096 pixels \(at least 196608 bytes\); the file is truncated/,
  );
});

Deno.test("decodeImage() still decodes JPEGs and PNGs at their best compression", async () => {
  const black = new Image(1024, 1024).fill(0x000000ff);
  const jpeg = new Uint8Array(await black.encodeJPEG(10));
  const image = await decodeImage(jpeg, "black.jpg", LIMIT);
  assert.equal(image.width, 1024);
  // 16777215 x 1 zeros: deflate's ~1024:1, just above the 1032:1 bound, and the longest side decoded.
  const wide = await decodeImage(grayPng(16_777_215, 1), "wide.png", LIMIT);
  assert.equal(wide.width, 16_777_215);
});

Deno.test("decodeImage() refuses a PNG whose IDAT is too short for its size as truncated", async () => {
  const e = await refusal(grayPng(4096, 4096, 2000));
  assert.equal(e.status, 422);
  assert.match(e.message, /png data \(2000 bytes\) is too short for 4096x4096 pixels/);
});

Deno.test("decodeImage() calls valid 16777216x1 and 1x16777216 PNGs too large, not corrupt", async () => {
  for (const [w, h] of [[16_777_216, 1], [1, 16_777_216]]) {
    const e = await refusal(grayPng(w, h));
    assert.equal(e.status, 413, `${w}x${h}: ${e.message}`);
    assert.equal(e.code, "image_too_large");
    assert.match(e.message, /a side of 16777216 pixels exceeds the limit of 16777215/);
  }
});
