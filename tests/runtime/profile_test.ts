/** Per-operator profiles on the native backend. */
import assert from "node:assert/strict";
import { getRuntime } from "../../src/runtime/runtime.ts";
import { profileOps, summarizeTrace } from "../../bench/lib/profile.ts";
import { GATES, gatesModel, noise } from "./tiny_graph.ts";

Deno.test("profileOps() reports the time of every op type in a native run", async () => {
  const { CI, CO, H, W } = GATES;
  const p = await profileOps(await getRuntime("native"), gatesModel(noise(CI * CO * 9, 3)), {
    x: { type: "float32", dims: [1, CI, H, W], data: noise(CI * H * W, 4) },
  });
  const ops = p.ops.map((o) => o.op);
  for (const op of ["ConvTranspose", "Where", "Greater", "ReduceSum"]) {
    assert.ok(ops.includes(op), op);
  }
  const share = p.ops.reduce((s, o) => s + o.share, 0);
  assert.ok(Math.abs(share - 1) < 1e-9);
  assert.ok(p.runMs >= p.kernelMs * 0.5 && p.kernelMs > 0);
});

Deno.test("profileOps() refuses runtimes whose profile it cannot read", async () => {
  await assert.rejects(profileOps(await getRuntime("wasm"), new Uint8Array(), {}), /native/);
});

Deno.test("summarizeTrace() counts only the kernels of the last run", () => {
  const k = (ts: number, dur: number, op: string) => ({
    cat: "Node",
    name: `${op}_kernel_time`,
    ts,
    dur,
    args: { op_name: op },
  });
  const p = summarizeTrace([
    { cat: "Session", name: "model_run", ts: 0, dur: 100 },
    k(10, 50, "Conv"),
    { cat: "Session", name: "model_run", ts: 200, dur: 100 },
    k(210, 30, "Conv"),
    k(250, 10, "Relu"),
    k(260, 20, "Conv"),
  ]);
  assert.equal(p.runMs, 0.1);
  assert.equal(p.kernelMs, 0.06);
  assert.deepEqual(p.ops.map((o) => [o.op, o.count]), [["Conv", 2], ["Relu", 1]]);
  assert.ok(Math.abs(p.ops[0].share - 50 / 60) < 1e-12);
});
