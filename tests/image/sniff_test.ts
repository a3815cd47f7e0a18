import assert from "node:assert/strict";
import { Frame, GIF, Image } from "imagescript";
import { ApiError } from "../../src/errors.ts";
import { sniffImage } from "../../src/image/sniff.ts";
import { makeTiff, pngHeader } from "./helpers.ts";

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiError, `expected ApiError, got ${e}`);
    return e;
  }
  assert.fail("expected an error");
}

Deno.test("sniffImage() reads PNG dimensions from IHDR", () => {
  assert.deepEqual(sniffImage(pngHeader(640, 480), "a.png"), {
    format: "png",
    width: 640,
    height: 480,
  });
});

Deno.test("sniffImage() reads a JPEG frame header after other segments", async () => {
  const img = new Image(7, 3);
  const jpeg = await img.encodeJPEG(80);
  assert.deepEqual(sniffImage(jpeg, "a.jpg"), { format: "jpeg", width: 7, height: 3 });
});

Deno.test("sniffImage() reads the GIF logical screen", async () => {
  const gif = await new GIF([Frame.from(new Image(9, 4))]).encode();
  assert.deepEqual(sniffImage(gif, "a.gif"), { format: "gif", width: 9, height: 4 });
});

Deno.test("sniffImage() reads TIFF dimensions in both byte orders and tag types", () => {
  const px = new Uint8Array(5 * 2 * 3);
  assert.deepEqual(sniffImage(makeTiff(5, 2, px, true, true), "le.tif"), {
    format: "tiff",
    width: 5,
    height: 2,
  });
  assert.deepEqual(sniffImage(makeTiff(5, 2, px, false, true), "be.tif"), {
    format: "tiff",
    width: 5,
    height: 2,
  });
  assert.deepEqual(sniffImage(makeTiff(70000, 3, px, false, false), "be-long.tif"), {
    format: "tiff",
    width: 70000,
    height: 3,
  });
});

Deno.test("sniffImage() rejects webp and bmp with 415 naming the format", () => {
  const webp = new TextEncoder().encode("RIFF\x10\x00\x00\x00WEBPVP8 ");
  const e = apiError(() => sniffImage(webp, "x.webp"));
  assert.equal(e.status, 415);
  assert.equal(e.code, "unsupported_media_type");
  assert.equal(e.message, 'Cannot decode image "x.webp": unsupported format "webp"');
  const bmp = new TextEncoder().encode("BM\x00\x00\x00\x00\x00\x00");
  assert.match(apiError(() => sniffImage(bmp, "x.bmp")).message, /unsupported format "bmp"/);
});

Deno.test("sniffImage() rejects garbage with 415", () => {
  const e = apiError(() => sniffImage(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), "g.bin"));
  assert.equal(e.status, 415);
  assert.match(e.message, /unsupported format "unknown"/);
});

Deno.test("sniffImage() rejects truncated headers with 422", () => {
  const cases: [Uint8Array, string][] = [
    [pngHeader(10, 10).subarray(0, 20), "truncated PNG header"],
    [new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a]), "truncated JPEG"],
    [new TextEncoder().encode("GIF89a\x01"), "truncated GIF header"],
    [new Uint8Array([0x49, 0x49, 0x2a, 0x00, 0x08]), "truncated TIFF header"],
    [makeTiff(2, 2, new Uint8Array(12)).subarray(0, 30), "truncated TIFF directory"],
  ];
  for (const [bytes, what] of cases) {
    const e = apiError(() => sniffImage(bytes, "t"));
    assert.equal(e.status, 422, what);
    assert.equal(e.code, "corrupt_image");
    assert.ok(e.message.startsWith('Cannot decode image "t": ' + what), e.message);
  }
});

Deno.test("sniffImage() rejects zero dimensions with 422", () => {
  const e = apiError(() => sniffImage(pngHeader(0, 5), "z.png"));
  assert.equal(e.status, 422);
  assert.match(e.message, /declares 0x5 pixels/);
});
