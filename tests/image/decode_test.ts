import assert from "node:assert/strict";
import { Frame, GIF, Image } from "imagescript";
import { ApiError } from "../../src/errors.ts";
import { decodeImage } from "../../src/image/decode.ts";
import { makeTiff, pngHeader, withExifOrientation } from "./helpers.ts";

const opts = { maxPixels: 1_000_000 };

/** A w×h image whose pixel (x, y) is (x*10, y*10, 100, 255), so positions are readable back. */
function coordImage(w: number, h: number): Image {
  const img = new Image(w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) img.bitmap.set([x * 10, y * 10, 100, 255], (y * w + x) * 4);
  }
  return img;
}

async function rejects(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApiError, `expected ApiError, got ${e}`);
    return e;
  }
  assert.fail("expected a rejection");
}

Deno.test("decodeImage() decodes PNG pixels exactly", async () => {
  const img = coordImage(4, 3);
  const out = await decodeImage(await img.encode(), "a.png", opts);
  assert.equal(out.width, 4);
  assert.equal(out.height, 3);
  assert.deepEqual([...out.data.subarray(0, 4)], [0, 0, 100, 255]);
  assert.deepEqual([...out.data.subarray((2 * 4 + 3) * 4, (2 * 4 + 3) * 4 + 4)], [
    30,
    20,
    100,
    255,
  ]);
});

Deno.test("decodeImage() decodes JPEG within lossy tolerance", async () => {
  const img = new Image(8, 8).fill(Image.rgbaToColor(200, 50, 50, 255));
  const out = await decodeImage(await img.encodeJPEG(95), "a.jpg", opts);
  assert.equal(out.width, 8);
  assert.ok(Math.abs(out.data[0] - 200) <= 4 && Math.abs(out.data[1] - 50) <= 4, `${out.data}`);
  assert.equal(out.data[3], 255);
});

Deno.test("decodeImage() decodes the first GIF frame", async () => {
  const a = new Frame(3, 2, 100).fill(Image.rgbaToColor(255, 0, 0, 255));
  const b = new Frame(3, 2, 100).fill(Image.rgbaToColor(0, 0, 255, 255));
  const out = await decodeImage(await new GIF([a, b]).encode(), "a.gif", opts);
  assert.equal(out.width, 3);
  assert.equal(out.height, 2);
  assert.ok(
    out.data[0] > 200 && out.data[2] < 50,
    `first frame is red: ${out.data.subarray(0, 4)}`,
  );
});

Deno.test("decodeImage() decodes uncompressed TIFF in both byte orders", async () => {
  const rgb = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]); // 2×2
  for (const le of [true, false]) {
    const out = await decodeImage(makeTiff(2, 2, rgb, le), "a.tif", opts);
    assert.equal(out.width, 2);
    assert.deepEqual([...out.data], [1, 2, 3, 255, 4, 5, 6, 255, 7, 8, 9, 255, 10, 11, 12, 255]);
  }
  const rgba = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]); // 2×1 with alpha
  const out = await decodeImage(makeTiff(2, 1, rgba, false, true, 4), "rgba.tif", opts);
  assert.deepEqual([...out.data], [1, 2, 3, 4, 5, 6, 7, 8]);
});

Deno.test("decodeImage() rejects a TIFF whose strip is missing with 422", async () => {
  const tiff = makeTiff(4, 4, new Uint8Array(48));
  const e = await rejects(decodeImage(tiff.subarray(0, tiff.length - 20), "cut.tif", opts));
  assert.equal(e.status, 422);
  assert.match(e.message, /^Cannot decode image "cut.tif": tiff data is corrupt/);
});

Deno.test("decodeImage() rejects a PNG declaring 100000x100000 before decoding", async () => {
  // Only a header: if the decoder ran, it would fail with 422 instead of 413.
  const e = await rejects(decodeImage(pngHeader(100000, 100000), "bomb.png", opts));
  assert.equal(e.status, 413);
  assert.equal(e.code, "image_too_large");
  assert.equal(
    e.message,
    'Cannot decode image "bomb.png": 100000x100000 pixels exceeds the limit of 1000000',
  );
});

Deno.test("decodeImage() rejects garbage and webp with 415", async () => {
  const garbage = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 255);
  assert.equal((await rejects(decodeImage(garbage, "g", opts))).status, 415);
  const webp = new TextEncoder().encode("RIFF\x10\x00\x00\x00WEBPVP8 ");
  const e = await rejects(decodeImage(webp, "a.webp", opts));
  assert.equal(e.message, 'Cannot decode image "a.webp": unsupported format "webp"');
});

Deno.test("decodeImage() rejects a PNG with a valid header but corrupt data with 422", async () => {
  const png = await coordImage(16, 16).encode();
  const broken = png.slice(0, 60);
  const e = await rejects(decodeImage(broken, "broken.png", opts));
  assert.equal(e.status, 422);
  assert.equal(e.code, "corrupt_image");
  assert.match(e.message, /^Cannot decode image "broken.png": png data is corrupt/);
});

Deno.test("decodeImage() applies JPEG EXIF orientation", async () => {
  // Left half black, right half white, 16×8: big blocks survive JPEG compression.
  const img = new Image(16, 8);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 16; x++) {
      const v = x < 8 ? 0 : 255;
      img.bitmap.set([v, v, v, 255], (y * 16 + x) * 4);
    }
  }
  const jpeg = await img.encodeJPEG(95);
  const lum = (d: { width: number; data: Uint8Array }, x: number, y: number) =>
    d.data[(y * d.width + x) * 4];
  const plain = await decodeImage(jpeg, "plain.jpg", opts);
  assert.equal(plain.width, 16);
  assert.ok(lum(plain, 1, 1) < 30 && lum(plain, 14, 1) > 225);
  // 6 = rotate 90° clockwise: the left (black) half becomes the top.
  const r6 = await decodeImage(withExifOrientation(jpeg, 6), "r6.jpg", opts);
  assert.deepEqual([r6.width, r6.height], [8, 16]);
  assert.ok(lum(r6, 4, 1) < 30 && lum(r6, 4, 14) > 225, "rotated clockwise");
  // 8 = rotate 90° counter-clockwise: the left half becomes the bottom (little-endian EXIF).
  const r8 = await decodeImage(withExifOrientation(jpeg, 8, true), "r8.jpg", opts);
  assert.deepEqual([r8.width, r8.height], [8, 16]);
  assert.ok(lum(r8, 4, 1) > 225 && lum(r8, 4, 14) < 30, "rotated counter-clockwise");
  // 2 = mirror: black moves to the right.
  const m2 = await decodeImage(withExifOrientation(jpeg, 2), "m2.jpg", opts);
  assert.deepEqual([m2.width, m2.height], [16, 8]);
  assert.ok(lum(m2, 1, 1) > 225 && lum(m2, 14, 1) < 30, "mirrored");
});
