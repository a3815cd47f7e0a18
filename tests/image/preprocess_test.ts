import assert from "node:assert/strict";
import { Image } from "imagescript";
import { decodeImage } from "../../src/image/decode.ts";
import { createPreprocessor } from "../../src/image/preprocess.ts";
import { grayToImage } from "../../src/inputs/gray.ts";
import { parseManifest } from "../../src/models/manifest.ts";

const manifest = parseManifest(
  JSON.parse(await Deno.readTextFile("models/fmnist-wrn40/manifest.json")),
  "manifest.json",
);
const fixture = await Deno.readFile("tests/fixtures/wrn40-fmnist/id-fmnist.u8");

Deno.test("createPreprocessor() reproduces the fixture's pre-processing exactly", () => {
  const pre = createPreprocessor(manifest.preprocess, manifest.input);
  const f = Math.fround;
  const mean = f(0.2860), std = f(0.3530);
  for (let n = 0; n < 20; n++) {
    const img = fixture.subarray(n * 784, (n + 1) * 784);
    const out = pre(grayToImage(img, 28, 28));
    assert.equal(out.length, 3 * 32 * 32);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
          const v = inside ? img[(y - 2) * 28 + (x - 2)] : 0;
          // ToTensor (v/255 in float32), then Normalize ((x − mean)/std in float32).
          const want = f(f(f(v / 255) - mean) / std);
          const got = out[c * 1024 + y * 32 + x];
          assert.ok(Math.abs(got - want) <= 1e-6, `image ${n} [${c},${y},${x}]: ${got} vs ${want}`);
        }
      }
    }
  }
});

Deno.test("createPreprocessor() downscales a large upload with area averaging", () => {
  const pre = createPreprocessor(manifest.preprocess, manifest.input);
  // 56×56 where every 2×2 block is one gray level: area averaging gives that level exactly.
  const plane = new Uint8Array(56 * 56);
  for (let y = 0; y < 56; y++) {
    for (let x = 0; x < 56; x++) {
      plane[y * 56 + x] = (Math.floor(y / 2) * 28 + Math.floor(x / 2)) % 256;
    }
  }
  const out = pre(grayToImage(plane, 56, 56));
  const f = Math.fround;
  for (const [y, x] of [[0, 0], [5, 9], [27, 27]]) {
    const v = (y * 28 + x) % 256;
    const want = f(f(f(v / 255) - f(0.286)) / f(0.353));
    assert.ok(Math.abs(out[(y + 2) * 32 + x + 2] - want) < 1e-6, `${y},${x}`);
  }
});

Deno.test("createPreprocessor() converts colour to BT.601 luma and composites alpha", () => {
  const spec = {
    ...manifest.preprocess,
    resize: { width: 2, height: 1, method: "area" as const },
    pad: { top: 0, right: 0, bottom: 0, left: 0, value: 0 },
    scale: 1,
    mean: [0],
    std: [1],
    replicate: 1,
  };
  const input = { layout: "NCHW" as const, channels: 1, height: 1, width: 2 };
  const img = { width: 2, height: 1, data: new Uint8Array([255, 0, 0, 255, 200, 200, 200, 0]) };
  // Red: 0.299·255 = 76.2 → 76; a fully transparent pixel takes the background.
  assert.deepEqual([...createPreprocessor(spec, input)(img)], [76, 0]);
  assert.deepEqual([...createPreprocessor({ ...spec, background: 255 }, input)(img)], [76, 255]);
  const half = { width: 2, height: 1, data: new Uint8Array([255, 255, 255, 128, 9, 9, 9, 255]) };
  assert.deepEqual([...createPreprocessor(spec, input)(half)], [128, 9]);
});

Deno.test("createPreprocessor() handles rgb with per-channel mean and std", () => {
  const spec = {
    color: "rgb" as const,
    background: 0,
    resize: { width: 1, height: 1, method: "bilinear" as const },
    pad: { top: 1, right: 0, bottom: 0, left: 0, value: 255 },
    scale: 1 / 255,
    mean: [0.5, 0, 1],
    std: [0.5, 1, 2],
    replicate: 1,
  };
  const input = { layout: "NCHW" as const, channels: 3, height: 2, width: 1 };
  const out = createPreprocessor(spec, input)({
    width: 1,
    height: 1,
    data: new Uint8Array([255, 51, 0, 255]),
  });
  // Rows: padding (255 → 1.0), then the pixel.
  const f = Math.fround;
  const want = [(1 - 0.5) / 0.5, (1 - 0.5) / 0.5, 1, f(51 / 255), (1 - 1) / 2, (0 - 1) / 2];
  assert.deepEqual([...out].map((v) => f(v)), want.map((v) => f(v)));
});

Deno.test("createPreprocessor() rejects steps that miss the model's input shape", () => {
  assert.throws(
    () => createPreprocessor(manifest.preprocess, { ...manifest.input, height: 28 }),
    /Pre-processing gives \[3,32,32\] but the model input is \[3,28,32\]/,
  );
});

Deno.test("createPreprocessor() gives the same tensor for a PNG upload as for the raw pixels", async () => {
  const raw = grayToImage(fixture.subarray(0, 784), 28, 28);
  const png = new Image(28, 28);
  png.bitmap.set(raw.data);
  const decoded = await decodeImage(await png.encode(), "img0.png", { maxPixels: 1e6 });
  const pre = createPreprocessor(manifest.preprocess, manifest.input);
  assert.deepEqual(pre(decoded), pre(raw));
});
