import assert from "node:assert/strict";
import { cropPlan, luma, shrinkSquare } from "../../src/inputs/crops.ts";
import { countInputs, type Decoder, readInputs } from "../../src/inputs/mod.ts";

Deno.test("shrinkSquare() averages each cell of the square", () => {
  const plane = Float32Array.from({ length: 16 }, (_, i) => i); // 4×4, rows 0-3, 4-7, …
  // 2×2 blocks: (0+1+4+5)/4 = 2.5 → 3, 4.5 → 5, 10.5 → 11, 12.5 → 13 (Math.round).
  assert.deepEqual(shrinkSquare(plane, 4, 0, 0, 4, 2, 2), new Uint8Array([3, 5, 11, 13]));
  // The 2×2 square at (1, 1) kept at 2×2 is a copy: 5, 6, 9, 10.
  assert.deepEqual(shrinkSquare(plane, 4, 1, 1, 2, 2, 2), new Uint8Array([5, 6, 9, 10]));
});

Deno.test("luma() weighs R, G, B by 0.299, 0.587, 0.114 and ignores alpha", () => {
  const img = { width: 2, height: 1, data: new Uint8Array([255, 0, 0, 0, 100, 200, 50, 255]) };
  const y = luma(img);
  assert.ok(Math.abs(y[0] - 76.245) < 1e-4);
  assert.ok(Math.abs(y[1] - (29.9 + 117.4 + 5.7)) < 1e-4);
});

Deno.test("cropPlan() keeps every crop inside its source, sides between 2·28 and half", () => {
  const sizes = [{ width: 512, height: 512 }, { width: 300, height: 451 }];
  for (let i = 0; i < 200; i++) {
    const c = cropPlan(7, i, sizes, 28, 28);
    const { width, height } = sizes[c.source];
    const m = Math.min(width, height);
    assert.ok(c.side >= 56 && c.side <= m / 2, `side ${c.side}`);
    assert.ok(c.x0 >= 0 && c.x0 + c.side <= width && c.y0 >= 0 && c.y0 + c.side <= height);
  }
  assert.deepEqual(cropPlan(7, 3, sizes, 28, 28), cropPlan(7, 3, sizes, 28, 28));
  assert.notDeepEqual(cropPlan(7, 3, sizes, 28, 28), cropPlan(8, 3, sizes, 28, 28));
});

Deno.test("readInputs() makes gray crops of decoded images, decoding only when read", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/flat.png`, new Uint8Array([1]));
  let decoded = 0;
  // A 200×120 image of gray 90 (R = G = B): every crop pixel is 90.
  const decode: Decoder = () => {
    decoded++;
    const data = new Uint8Array(200 * 120 * 4);
    for (let i = 0; i < 200 * 120; i++) data.set([90, 90, 90, 255], 4 * i);
    return { width: 200, height: 120, data };
  };
  assert.equal(await countInputs([`crops:${dir}:5:28x28[1:]`], { decode }), 4);
  assert.equal(decoded, 0);
  const items = [];
  for await (const it of readInputs([`crops:${dir}:3:28x28:9`], { decode })) items.push(it);
  assert.equal(decoded, 1);
  assert.deepEqual(items.map((i) => i.name), [0, 1, 2].map((k) => `crops:${dir}:3:28x28:9#${k}`));
  for (const it of items) {
    assert.equal(it.image.width, 28);
    assert.ok(it.image.data.every((v, k) => v === (k % 4 === 3 ? 255 : 90)));
  }
  await Deno.remove(dir, { recursive: true });
});
