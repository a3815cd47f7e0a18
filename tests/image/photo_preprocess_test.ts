import assert from "node:assert/strict";
import { Image } from "imagescript";
import { decodeImage } from "../../src/image/decode.ts";
import { createPreprocessor } from "../../src/image/preprocess.ts";
import type { InputSpec, PreprocessSpec } from "../../src/image/spec.ts";
import { withExifOrientation } from "./helpers.ts";

/** torchvision reference tensors, made once by tools/reference/preprocess_reference.py. */
interface RefCase {
  name: string;
  width: number;
  height: number;
  shorter: number;
  crop: { width: number; height: number };
  method: "bilinear" | "bicubic";
  rgb: number[];
  pil: number[];
  tensor: number[];
}
const reference = JSON.parse(
  await Deno.readTextFile("tests/fixtures/preprocess/torchvision.json"),
) as { mean: number[]; std: number[]; cases: RefCase[] };

/** A photo spec: shorter side, center crop, no padding. */
function photoSpec(o: {
  shorter: number;
  crop: { width: number; height: number };
  method: "bilinear" | "bicubic";
  arithmetic?: "float" | "pillow";
  scale?: number;
  mean?: number[];
  std?: number[];
}): { spec: PreprocessSpec; input: InputSpec } {
  const spec: PreprocessSpec = {
    color: "rgb",
    background: 0,
    resize: { shorter: o.shorter, method: o.method, arithmetic: o.arithmetic },
    crop: o.crop,
    pad: { top: 0, right: 0, bottom: 0, left: 0, value: 0 },
    scale: o.scale ?? 1 / 255,
    mean: o.mean ?? [0],
    std: o.std ?? [1],
    replicate: 1,
  };
  const input = { layout: "NCHW" as const, channels: 3, ...o.crop };
  return { spec, input };
}

function rgbaOf(width: number, height: number, rgb: (x: number, y: number) => number[]) {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([...rgb(x, y), 255], 4 * (y * width + x));
  }
  return { width, height, data };
}

Deno.test("createPreprocessor() resizes the shorter side and center-crops a hand-worked 6x4 image", () => {
  // Stored 6 wide × 4 high, R = 14x + 28y, G = 255 − R, B = 100.
  // Resize shorter side to 2: height 4 → 2, width int(2·6/4) = 3. Both axes shrink by 2, so the
  // triangle filter is 2 pixels wide (support 2) around centres (i + 0.5)·2 = 1, 3, 5:
  //   x-centre 1: taps 0,1,2 with raw weights 0.75, 0.75, 0.25 → 3/7, 3/7, 1/7
  //   x-centre 3: taps 1..4 with 0.25, 0.75, 0.75, 0.25 → 1/8, 3/8, 3/8, 1/8
  //   y-centre 1: rows 0,1,2 → 3/7, 3/7, 1/7; y-centre 3: rows 1,2,3 (row 4 is outside) → 1/7, 3/7, 3/7
  // R is separable: column part 14·(0·3 + 1·3 + 2·1)/7 = 10 and 14·(1 + 6 + 9 + 4)/8 = 35,
  // row part 28·(0·3 + 1·3 + 2·1)/7 = 20 and 28·(1 + 6 + 9)/7 = 64.
  // Crop 2×2 from 3×2: left = round(0.5) = 0 (Python rounds halves to even), top = 0.
  // So R = [10+20, 35+20, 10+64, 35+64] = [30, 55, 74, 99]; G = 255 − R (weights sum to 1).
  const img = rgbaOf(6, 4, (x, y) => [14 * x + 28 * y, 255 - 14 * x - 28 * y, 100]);
  const r = [30, 55, 74, 99];
  const want = [...r, ...r.map((v) => 255 - v), 100, 100, 100, 100];
  for (const arithmetic of ["float", "pillow"] as const) {
    const { spec, input } = photoSpec({
      shorter: 2,
      crop: { width: 2, height: 2 },
      method: "bilinear",
      arithmetic,
      scale: 1,
    });
    const got = [...createPreprocessor(spec, input)(img)];
    assert.deepEqual(got.map((v) => Math.round(v * 1e4) / 1e4), want, arithmetic);
  }
});

Deno.test("createPreprocessor() matches torchvision's PIL pipeline exactly with pillow arithmetic", () => {
  for (const c of reference.cases) {
    const { spec, input } = photoSpec({
      ...c,
      arithmetic: "pillow",
      mean: reference.mean,
      std: reference.std,
    });
    const img = rgbaOf(
      c.width,
      c.height,
      (x, y) => c.rgb.slice(3 * (y * c.width + x), 3 * (y * c.width + x) + 3),
    );
    const got = createPreprocessor(spec, input)(img);
    assert.equal(got.length, c.pil.length, c.name);
    const worst = Math.max(...c.pil.map((v, i) => Math.abs(v - got[i])));
    assert.ok(worst <= 1e-6, `${c.name}: max |diff| ${worst}`);
  }
});

Deno.test("createPreprocessor() matches torchvision's antialiased tensor Resize with float arithmetic", () => {
  for (const c of reference.cases) {
    const { spec, input } = photoSpec({
      ...c,
      arithmetic: "float",
      mean: reference.mean,
      std: reference.std,
    });
    const img = rgbaOf(
      c.width,
      c.height,
      (x, y) => c.rgb.slice(3 * (y * c.width + x), 3 * (y * c.width + x) + 3),
    );
    const got = createPreprocessor(spec, input)(img);
    const worst = Math.max(...c.tensor.map((v, i) => Math.abs(v - got[i])));
    // torch accumulates in float32, we in float64: differences of a few float32 ulps.
    assert.ok(worst <= 1e-5, `${c.name}: max |diff| ${worst}`);
  }
});

Deno.test("createPreprocessor() crops the upright photo: EXIF orientation applies before the crop", async () => {
  // Stored 8×4 landscape: left half black, right half white. Orientation 6 (rotate 90° clockwise)
  // shows a 4×8 portrait with the stored left half on top. Shorter side 4 keeps the size; the
  // 4×4 center crop starts at row round((8 − 4)/2) = 2: two black rows, then two white rows.
  const stored = new Image(8, 4);
  for (let y = 1; y <= 4; y++) {
    for (let x = 1; x <= 8; x++) stored.setPixelAt(x, y, x <= 4 ? 0x000000ff : 0xffffffff);
  }
  const jpeg = withExifOrientation(await stored.encodeJPEG(100), 6);
  const decoded = await decodeImage(jpeg, "portrait.jpg", { maxPixels: 1e6 });
  assert.deepEqual([decoded.width, decoded.height], [4, 8]);
  const { spec, input } = photoSpec({
    shorter: 4,
    crop: { width: 4, height: 4 },
    method: "bilinear",
    scale: 1,
  });
  const red = createPreprocessor(spec, input)(decoded).subarray(0, 16);
  for (let y = 0; y < 4; y++) {
    for (let x = 0; x < 4; x++) {
      const v = red[y * 4 + x];
      assert.ok(y < 2 ? v < 40 : v > 215, `row ${y} col ${x}: ${v}`);
    }
  }
});

Deno.test("createPreprocessor() resamples only the crop of a long thin upload", () => {
  // 2 × 20000 pixels resized to shorter side 224 would be 224 × 2 240 000 pixels per channel;
  // only the 224 × 224 crop is computed, so this stays fast and small.
  const img = rgbaOf(2, 20000, () => [10, 20, 30]);
  const { spec, input } = photoSpec({
    shorter: 224,
    crop: { width: 224, height: 224 },
    method: "bicubic",
    arithmetic: "pillow",
    scale: 1,
  });
  const out = createPreprocessor(spec, input)(img);
  assert.equal(out.length, 3 * 224 * 224);
  assert.ok(out.subarray(0, 224 * 224).every((v) => v === 10), "a constant image stays constant");
});
