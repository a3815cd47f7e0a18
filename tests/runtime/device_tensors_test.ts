/** Outputs kept in device memory feed later runs without a read-back, on every backend. */
import assert from "node:assert/strict";
import { getRuntime } from "../../src/runtime/runtime.ts";
import { BACKENDS, type DeviceTensor, isDeviceTensor } from "../../src/runtime/types.ts";
import { floatInfo, model } from "./tiny_graph.ts";

/** y = x · k (k a scalar initializer) on [2, 3]. */
function scaleModel(k: number): Uint8Array {
  return model({
    name: "scale",
    node: [{ opType: "Mul", input: ["x", "k"], output: ["y"], name: "mul" }],
    initializer: [{ name: "k", dims: [], dataType: 1, floatData: [k] }],
    input: [floatInfo("x", [2, 3])],
    output: [floatInfo("y", [2, 3])],
  });
}

const X = { type: "float32" as const, dims: [2, 3], data: new Float32Array([1, -2, 3, -4, 5, -6]) };

Deno.test("runOnDevice() keeps deviceOutputs on the device and feeds them to another session", async () => {
  for (const b of BACKENDS) {
    const rt = await getRuntime(b);
    const first = await rt.createSession(scaleModel(2), { deviceOutputs: ["y"] });
    const second = await rt.createSession(scaleModel(3));
    try {
      const mid = (await first.runOnDevice({ x: X })).y;
      assert.ok(isDeviceTensor(mid), `${b}: y should stay on the device`);
      const kept = mid as DeviceTensor;
      assert.equal(kept.location, b === "webgpu" ? "gpu-buffer" : "cpu");
      assert.deepEqual(kept.dims, [2, 3]);
      const out = await second.run({ x: kept });
      assert.deepEqual(Array.from(out.y.data as Float32Array), [6, -12, 18, -24, 30, -36], b);
      assert.deepEqual(Array.from((await kept.read()).data as Float32Array), [
        2,
        -4,
        6,
        -8,
        10,
        -12,
      ]);
      kept.dispose();
      kept.dispose(); // idempotent
      await assert.rejects(second.run({ x: kept }), /disposed/);
      // Plain run() reads every output back, device outputs included.
      const host = await first.run({ x: X });
      assert.ok(!isDeviceTensor(host.y));
      assert.deepEqual(Array.from(host.y.data as Float32Array), [2, -4, 6, -8, 10, -12]);
    } finally {
      await first.release();
      await second.release();
    }
  }
});

Deno.test("runOnDevice() refuses a device tensor from another backend", async () => {
  const wasm = await (await getRuntime("wasm")).createSession(scaleModel(2), {
    deviceOutputs: ["y"],
  });
  const native = await (await getRuntime("native")).createSession(scaleModel(2));
  try {
    const y = (await wasm.runOnDevice({ x: X })).y;
    await assert.rejects(native.run({ x: y }), /lives on backend "wasm"/);
  } finally {
    await wasm.release();
    await native.release();
  }
});
