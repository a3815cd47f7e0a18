import assert from "node:assert/strict";
import { applyOrientation, jpegOrientation } from "../../src/image/exif.ts";
import { withExifOrientation } from "./helpers.ts";

/** 3×2 image whose red channel numbers the pixels 1..6 row by row. */
const img = {
  width: 3,
  height: 2,
  data: new Uint8Array([1, 2, 3, 4, 5, 6].flatMap((v) => [v, 0, 0, 255])),
};
const reds = (d: { data: Uint8Array }) => [...d.data].filter((_, i) => i % 4 === 0);
const minimalJpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0xff, 0xd9]);

Deno.test("applyOrientation() maps all eight EXIF orientations", () => {
  // Stored: 1 2 3 / 4 5 6. Expected upright results worked out by hand per the EXIF spec.
  const expected: Record<number, [number, number, number[]]> = {
    1: [3, 2, [1, 2, 3, 4, 5, 6]],
    2: [3, 2, [3, 2, 1, 6, 5, 4]],
    3: [3, 2, [6, 5, 4, 3, 2, 1]],
    4: [3, 2, [4, 5, 6, 1, 2, 3]],
    5: [2, 3, [1, 4, 2, 5, 3, 6]],
    6: [2, 3, [4, 1, 5, 2, 6, 3]],
    7: [2, 3, [6, 3, 5, 2, 4, 1]],
    8: [2, 3, [3, 6, 2, 5, 1, 4]],
  };
  for (const [o, [w, h, r]] of Object.entries(expected)) {
    const out = applyOrientation(img, Number(o));
    assert.deepEqual([out.width, out.height, reds(out)], [w, h, r], `orientation ${o}`);
  }
});

Deno.test("jpegOrientation() reads the tag in both byte orders and defaults to 1", () => {
  assert.equal(jpegOrientation(minimalJpeg), 1);
  assert.equal(jpegOrientation(withExifOrientation(minimalJpeg, 6)), 6);
  assert.equal(jpegOrientation(withExifOrientation(minimalJpeg, 3, true)), 3);
  assert.equal(jpegOrientation(withExifOrientation(minimalJpeg, 42)), 1);
});
