import assert from "node:assert/strict";
import { resizePlane } from "../../src/image/resize.ts";

const plane = (width: number, height: number, values: number[]) => ({
  width,
  height,
  data: Float32Array.from(values),
});

Deno.test("resizePlane() returns the input untouched when the size matches", () => {
  const p = plane(2, 1, [1, 2]);
  assert.equal(resizePlane(p, 2, 1, "area"), p);
  assert.equal(resizePlane(p, 2, 1, "bilinear"), p);
});

Deno.test("resizePlane() area-averages 2x2 blocks when halving", () => {
  const p = plane(4, 2, [0, 4, 8, 8, 2, 6, 0, 4]);
  // Blocks: (0+4+2+6)/4 = 3, (8+8+0+4)/4 = 5.
  assert.deepEqual([...resizePlane(p, 2, 1, "area").data], [3, 5]);
});

Deno.test("resizePlane() weights partial pixels by coverage for non-integer ratios", () => {
  // 3 → 2: out[0] = (2·0 + 1·3)/3 = 1, out[1] = (1·3 + 2·6)/3 = 5.
  const out = resizePlane(plane(3, 1, [0, 3, 6]), 2, 1, "area");
  assert.deepEqual([...out.data].map((v) => Math.round(v * 1e6) / 1e6), [1, 5]);
});

Deno.test("resizePlane() anti-aliases a checkerboard instead of sampling it", () => {
  const n = 56;
  const values = Array.from(
    { length: n * n },
    (_, i) => ((i % n) + Math.floor(i / n)) % 2 ? 255 : 0,
  );
  const area = resizePlane(plane(n, n, values), 28, 28, "area");
  assert.ok(area.data.every((v) => v === 127.5), "area: every 2x2 block averages to 127.5");
  const bil = resizePlane(plane(n, n, values), 28, 28, "bilinear");
  assert.ok(
    bil.data.every((v) => Math.abs(v - 127.5) < 40),
    "bilinear: no pixel stays black or white",
  );
});

Deno.test("resizePlane() interpolates bilinearly with half-pixel centres when enlarging", () => {
  // Output centres 0.25, 0.75, 1.25, 1.75 in source pixels; edges clamp.
  for (const method of ["area", "bilinear"] as const) {
    const out = resizePlane(plane(2, 1, [0, 10]), 4, 1, method);
    assert.deepEqual([...out.data], [0, 2.5, 7.5, 10], method);
  }
});

Deno.test("resizePlane() keeps a constant image constant", () => {
  const p = plane(5, 7, Array(35).fill(42));
  for (const [w, h] of [[3, 2], [11, 13], [1, 1]]) {
    for (const method of ["area", "bilinear"] as const) {
      const out = resizePlane(p, w, h, method);
      assert.equal(out.data.length, w * h);
      assert.ok(out.data.every((v) => Math.abs(v - 42) < 1e-4), `${method} ${w}x${h}`);
    }
  }
});
