/** The ops gradient graphs rely on give equal, correct results on every backend. */
import assert from "node:assert/strict";
import { getRuntime } from "../../src/runtime/runtime.ts";
import { BACKENDS } from "../../src/contract/backends.ts";
import { GATES, gatesModel, gatesReference, noise } from "./tiny_graph.ts";

function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what: string,
) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    assert.ok(d <= tol, `${what}[${i}] = ${actual[i]}, expected ${expected[i]} (diff ${d})`);
  }
}

Deno.test("Where/Greater/Cast/ReduceSum/ConvTranspose give the reference values on every backend", async () => {
  const { CI, CO, H, W } = GATES;
  const x = noise(CI * H * W, 7);
  x[0] = 0; // Greater(0, 0) is false: the gate must stay closed at exactly zero
  x[5] = -0;
  const w = noise(CI * CO * 9, 11);
  const ref = gatesReference(x, w);
  const bytes = gatesModel(w);
  for (const b of BACKENDS) {
    const session = await (await getRuntime(b)).createSession(bytes);
    try {
      const out = await session.run({ x: { type: "float32", dims: [1, CI, H, W], data: x } });
      assert.deepEqual(out.t.dims, [1, CO, H, W]);
      assert.deepEqual(out.s.dims, [1, CO]);
      assert.deepEqual(Array.from(out.m.data as Float32Array), ref.m, `${b}: mask`);
      assertClose(out.t.data as Float32Array, ref.t, 1e-5, `${b}: t`);
      assertClose(out.s.data as Float32Array, ref.s, 1e-4, `${b}: s`);
    } finally {
      await session.release();
    }
  }
});
