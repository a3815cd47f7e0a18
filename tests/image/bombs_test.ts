import assert from "node:assert/strict";
import { ApiError } from "../../src/errors.ts";
import { decodeImage } from "../../src/image/decode.ts";
import { decodeTiff, TiffTooLargeError } from "../../src/image/decode_tiff.ts";
import { sniffImage } from "../../src/image/sniff.ts";
import {
  gifFrameBomb,
  grayPackBitsEntries,
  packBitsZeros,
  tiffFile,
  tiffWidthBypass,
} from "./bombs.ts";

const MAX_PIXELS = 16_777_216;
const MiB = 2 ** 20;

/** Runs a decode expected to fail; returns its error, the seconds taken and the RSS growth. */
async function refusal(bytes: Uint8Array, name: string) {
  const rss0 = Deno.memoryUsage().rss;
  const t0 = performance.now();
  let err: unknown;
  try {
    await decodeImage(bytes, name, { maxPixels: MAX_PIXELS });
  } catch (e) {
    err = e;
  }
  const seconds = (performance.now() - t0) / 1000;
  const grewMiB = (Deno.memoryUsage().rss - rss0) / MiB;
  assert.ok(err instanceof ApiError, `expected an ApiError, got ${err}`);
  return { err, seconds, grewMiB };
}

Deno.test("decodeImage() refuses the 35-byte GIF frame bomb with 413 before decoding", async () => {
  const bomb = gifFrameBomb();
  assert.equal(bomb.length, 35);
  const { err, seconds, grewMiB } = await refusal(bomb, "bomb.gif");
  assert.equal(err.status, 413);
  assert.equal(err.code, "image_too_large");
  assert.match(err.message, /a frame of 16000x16000 pixels exceeds the limit of 16777216/);
  assert.ok(seconds < 0.5, `took ${seconds} s`);
  assert.ok(grewMiB < 100, `RSS grew ${grewMiB} MiB`);
});

Deno.test("sniffImage() walks GIF extensions and sub-blocks to every frame descriptor", () => {
  // Graphic control extension, then a comment extension with two sub-blocks.
  const gce = new Uint8Array([0x21, 0xf9, 4, 0, 10, 0, 0, 0]);
  const comment = new Uint8Array([0x21, 0xfe, 3, 0x2c, 0x2c, 0x2c, 2, 0x3b, 0x3b, 0]);
  const gif = gifFrameBomb(5000, 4000, { extensions: [gce, comment], extraFrames: 3 });
  assert.deepEqual(sniffImage(gif, "a.gif"), {
    format: "gif",
    width: 16,
    height: 16,
    largest: { width: 5000, height: 4000 },
  });
  // Frames within the screen add nothing.
  assert.deepEqual(sniffImage(gifFrameBomb(16, 8, { extraFrames: 2 }), "b.gif"), {
    format: "gif",
    width: 16,
    height: 16,
  });
});

Deno.test("sniffImage() refuses a GIF with an unknown block or no frame with 422", () => {
  const bomb = gifFrameBomb();
  const unknown = new Uint8Array([...bomb.subarray(0, 19), 0x99, ...bomb.subarray(19)]);
  assert.throws(() => sniffImage(unknown, "u.gif"), (e) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 422);
    assert.match(e.message, /unknown GIF block 0x99 at byte 19/);
    return true;
  });
  const noFrame = new Uint8Array([...bomb.subarray(0, 19), 0x3b]);
  assert.throws(() => sniffImage(noFrame, "n.gif"), /GIF has no image descriptor/);
});

Deno.test("decodeImage() refuses the TIFF whose ImageWidth is a 2-value LONG, quickly", async () => {
  const bypass = tiffWidthBypass();
  assert.ok(bypass.length < 1_000_000);
  const { err, seconds, grewMiB } = await refusal(bypass, "bypass.tif");
  assert.equal(err.status, 422);
  assert.match(err.message, /TIFF tag 256 must hold one value, has 2/);
  assert.ok(seconds < 0.5, `took ${seconds} s`);
  assert.ok(grewMiB < 100, `RSS grew ${grewMiB} MiB`);
});

Deno.test("decodeImage() refuses a well-formed 60000x1000 PackBits TIFF with 413", async () => {
  const data = packBitsZeros(60000 * 1000);
  const entries = grayPackBitsEntries({ tag: 256, type: 4, values: [60000] }, 1000, data.length);
  const { err, seconds, grewMiB } = await refusal(tiffFile(entries, data), "wide.tif");
  assert.equal(err.status, 413);
  assert.match(err.message, /60000x1000 pixels exceeds the limit/);
  assert.ok(seconds < 0.5, `took ${seconds} s`);
  assert.ok(grewMiB < 100, `RSS grew ${grewMiB} MiB`);
});

Deno.test("decodeTiff() compares its own dimensions with the limit before allocating", () => {
  const data = packBitsZeros(3000 * 1000);
  const entries = grayPackBitsEntries({ tag: 256, type: 3, values: [3000] }, 1000, data.length);
  assert.throws(() => decodeTiff(tiffFile(entries, data), 2_999_999), (e) => {
    assert.ok(e instanceof TiffTooLargeError);
    assert.equal(e.width, 3000);
    assert.equal(e.height, 1000);
    return true;
  });
  const ok = decodeTiff(tiffFile(entries, data), 3_000_000);
  assert.equal(ok.data.length, 3000 * 1000 * 4);
});

Deno.test("decodeTiff() bounds PackBits output by the declared size", () => {
  // The strip expands to 128 000 bytes, the image declares 4×2 = 8: only 8 are used.
  const data = packBitsZeros(128_000);
  data[1] = 77; // first run repeats 77
  const entries = grayPackBitsEntries({ tag: 256, type: 3, values: [4] }, 2, data.length);
  const out = decodeTiff(tiffFile(entries, data), 100);
  assert.equal(out.data.length, 4 * 2 * 4);
  assert.deepEqual([...out.data.subarray(0, 4)], [77, 77, 77, 255]);
});

Deno.test("sniffImage() checks every TIFF directory and refuses loops and odd types", () => {
  const px = packBitsZeros(4);
  const small = grayPackBitsEntries({ tag: 256, type: 3, values: [2] }, 2, px.length);
  const one = tiffFile(small, px);
  const v = new DataView(one.buffer);
  const nextAt = 10 + small.length * 12;
  // Next-IFD pointer back to the first IFD: a loop.
  v.setUint32(nextAt, 8, true);
  assert.throws(() => sniffImage(one, "loop.tif"), /TIFF directory chain loops/);
  // ImageWidth as BYTE instead of SHORT/LONG.
  const byteWidth = tiffFile(small, px);
  new DataView(byteWidth.buffer).setUint16(12, 1, true);
  assert.throws(() => sniffImage(byteWidth, "b.tif"), /TIFF tag 256 must be SHORT or LONG/);
  // An entry pointing past the end of the file.
  const wide = tiffFile([{ tag: 258, type: 3, values: [8, 8, 8] }, ...small.slice(1)], px);
  new DataView(wide.buffer).setUint32(10 + 8, 1 << 20, true);
  assert.throws(() => sniffImage(wide, "o.tif"), /TIFF tag 258 points outside the file/);
});

Deno.test("sniffImage() reports a later, larger TIFF directory, which the limit then refuses", async () => {
  const px = packBitsZeros(4);
  const first = grayPackBitsEntries({ tag: 256, type: 3, values: [2] }, 2, px.length);
  const file = tiffFile(first, px);
  // Append a second IFD declaring 50000×50000 and link it from the first.
  const second = new Uint8Array(2 + 2 * 12 + 4);
  const sv = new DataView(second.buffer);
  sv.setUint16(0, 2, true);
  [[256, 50000], [257, 50000]].forEach(([tag, x], k) => {
    sv.setUint16(2 + k * 12, tag, true);
    sv.setUint16(2 + k * 12 + 2, 4, true);
    sv.setUint32(2 + k * 12 + 4, 1, true);
    sv.setUint32(2 + k * 12 + 8, x, true);
  });
  const both = new Uint8Array(file.length + second.length);
  both.set(file);
  both.set(second, file.length);
  new DataView(both.buffer).setUint32(10 + first.length * 12, file.length, true);
  assert.deepEqual(sniffImage(both, "two.tif").largest, { width: 50000, height: 50000 });
  const { err } = await refusal(both, "two.tif");
  assert.equal(err.status, 413);
  assert.match(err.message, /a sub-image of 50000x50000 pixels/);
});

Deno.test("decodeTiff() refuses more than 4 samples per pixel (buffer size is pixels × samples)", () => {
  const px = new Uint8Array(200 * 4);
  const entries = [
    { tag: 256, type: 3, values: [2] },
    { tag: 257, type: 3, values: [2] },
    { tag: 258, type: 3, values: [8] },
    { tag: 262, type: 3, values: [2] },
    { tag: 273, type: 4, values: [-1] },
    { tag: 277, type: 3, values: [200] },
    { tag: 279, type: 4, values: [px.length] },
  ] as const;
  assert.throws(
    () => decodeTiff(tiffFile(entries, px), 100),
    /unsupported photometric 2 with 200 samples/,
  );
});
