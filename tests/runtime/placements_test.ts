/** Finding ops that fell back to the CPU on WebGPU. */
import assert from "node:assert/strict";
import { getRuntime } from "../../src/runtime/runtime.ts";
import { nodePlacements, parsePlacements } from "../../bench/lib/placements.ts";
import { floatInfo, GATES, gatesModel, model, noise } from "./tiny_graph.ts";
import { int64Tensor, makeAttrs } from "../../src/onnx/tensor.ts";

/** y = Sign(x) + x: Sign has no WebGPU kernel in onnxruntime-web 1.30. */
const SIGN = model({
  name: "sign",
  node: [
    { opType: "Sign", input: ["x"], output: ["s"], name: "the_sign" },
    { opType: "Add", input: ["s", "x"], output: ["y"], name: "the_add" },
  ],
  input: [floatInfo("x", [4])],
  output: [floatInfo("y", [4])],
});

Deno.test("nodePlacements() names the nodes that fell back to the CPU on webgpu", async () => {
  const report = await nodePlacements(await getRuntime("webgpu"), SIGN);
  assert.equal(report.source, "log");
  assert.deepEqual(report.cpuFallbacks, [{ op: "Sign", name: "the_sign" }]);
  const gpu = report.placements.find((p) => p.provider === "WebGpuExecutionProvider");
  assert.ok(gpu?.nodes.some((n) => n.name === "the_add"));
});

Deno.test("nodePlacements() finds no CPU fallback in the gradient ops on webgpu", async () => {
  const { CI, CO } = GATES;
  const report = await nodePlacements(
    await getRuntime("webgpu"),
    gatesModel(noise(CI * CO * 9, 1)),
  );
  assert.deepEqual(report.cpuFallbacks, []);
});

/** Reshape(Relu(x), [N, -1]) with N taken from Shape(x) at run time (dynamic batch). */
const SHAPE_MATH = model({
  name: "shape_math",
  node: [
    { opType: "Shape", input: ["x"], output: ["sh"], name: "shape" },
    {
      opType: "Gather",
      input: ["sh", "i0"],
      output: ["n"],
      name: "gather",
      attribute: makeAttrs({ axis: 0 }),
    },
    {
      opType: "Concat",
      input: ["n", "m1"],
      output: ["tgt"],
      name: "concat",
      attribute: makeAttrs({ axis: 0 }),
    },
    { opType: "Relu", input: ["x"], output: ["r"], name: "relu" },
    { opType: "Reshape", input: ["r", "tgt"], output: ["y"], name: "reshape" },
  ],
  initializer: [int64Tensor("i0", [1], [0]), int64Tensor("m1", [1], [-1])],
  input: [floatInfo("x", [-1, 4])],
  output: [floatInfo("y", [-1, 4])],
});

Deno.test("nodePlacements() tells shape math put on the CPU on purpose from missing kernels", async () => {
  const report = await nodePlacements(await getRuntime("webgpu"), SHAPE_MATH);
  assert.deepEqual(report.cpuByChoice, ["gather"]);
  assert.ok(report.cpuFallbacks.some((n) => n.name === "gather"));
  const sign = await nodePlacements(await getRuntime("webgpu"), SIGN);
  assert.deepEqual(sign.cpuByChoice, []);
});

Deno.test("nodePlacements() puts everything on the CPU provider on wasm and native", async () => {
  for (const b of ["wasm", "native"] as const) {
    const report = await nodePlacements(await getRuntime(b), SIGN);
    assert.equal(report.source, b === "wasm" ? "log" : "assumed");
    assert.deepEqual(report.placements.map((p) => [p.provider, p.count]), [[
      "CPUExecutionProvider",
      2,
    ]]);
    assert.deepEqual(report.cpuFallbacks, []);
  }
});

Deno.test("parsePlacements() reads mixed and all-on-one listings", () => {
  const p = "2026-01-01 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]";
  const lines = [
    "unrelated line",
    `${p} Node placements`,
    `${p}  Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 2`,
    `${p}   Add (add0)`,
    `${p}   MemcpyFromHost (Memcpy)`,
    `${p}  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 1`,
    `${p}   Sign (sign0)`,
    "2026-01-01 [V:onnxruntime:, session_state.cc:186 CreateGraphInfo] SaveMLValueNameIndexMapping",
    `${p}   NotANode (after the listing)`,
  ];
  assert.deepEqual(parsePlacements(lines), [
    {
      provider: "WebGpuExecutionProvider",
      count: 2,
      nodes: [{ op: "Add", name: "add0" }, { op: "MemcpyFromHost", name: "Memcpy" }],
    },
    { provider: "CPUExecutionProvider", count: 1, nodes: [{ op: "Sign", name: "sign0" }] },
  ]);
  assert.deepEqual(
    parsePlacements([
      `${p} Node placements`,
      `${p}  All nodes placed on [WebGpuExecutionProvider]. Number of nodes: 99`,
    ]),
    [{ provider: "WebGpuExecutionProvider", count: 99, nodes: [] }],
  );
});
