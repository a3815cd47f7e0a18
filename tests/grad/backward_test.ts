/** The backward driver: fan-out sums, pruning, several seeds per pass, errors. */
import assert from "node:assert/strict";
import { activity, buildBackward } from "../../src/grad/backward.ts";
import { gradientModel } from "../../bench/lib/gradient_model.ts";
import { RULES } from "../../src/grad/registry.ts";
import { assembleModel } from "../../src/onnx/assemble.ts";
import { GraphBuilder } from "../../src/onnx/builder.ts";
import { Graph } from "../../src/onnx/graph.ts";
import { type ModelProto, onnx, writeModel } from "../../src/onnx/proto.ts";
import { probeShapes } from "../../src/runtime/shapes.ts";
import type { TensorInfo } from "../../src/onnx/shapes.ts";
import { getRuntime } from "../../src/runtime/runtime.ts";
import { assertGradients, caseModel, checkGradients, node, type OpCase, rng } from "./fd.ts";

Deno.test("buildBackward() sums fan-out gradients", async () => {
  const res = await assertGradients({
    nodes: [
      node("Sigmoid", ["x"], ["s"]),
      node("Tanh", ["x"], ["t"]),
      node("Mul", ["s", "t"], ["m"]),
      node("Add", ["m", "x"], ["y"]),
    ],
    inputs: [{ name: "x", dims: ["N", 5] }],
  });
  // x feeds three nodes: its three contributions are added by two Adds (plus the forward Add).
  assert.equal(res.gradientOps.filter((op) => op === "Add").length, 3);
});

/** Static info for hand-written graphs: every tensor [-1, 3] float32. */
const info = (): TensorInfo => ({ type: "float32", dims: [-1, 3] });

Deno.test("buildBackward() emits nothing for tensors nobody needs", () => {
  const b = new GraphBuilder(17, ["x", "z", "w", "a", "unused", "y", "dy"]);
  const w = new Float32Array([1, 2, 3]);
  buildBackward(b, {
    nodes: [
      node("Exp", ["x"], ["a"]),
      node("Sigmoid", ["x"], ["unused"]), // no path to the seed
      node("Mul", ["a", "z"], ["p"]),
      node("Mul", ["p", "w"], ["y"]), // w is a constant: no gradient
    ],
    info,
    constant: (n) => (n === "w" ? w : undefined),
    seeds: new Map([["y", "dy"]]),
    wrt: ["x"], // z varies but nobody asks for it
  });
  // dp = dy·w, da = dp·z, dx = da·exp(x): three Muls and nothing else.
  assert.deepEqual(b.nodes.map((n) => n.opType), ["Mul", "Mul", "Mul"]);
});

Deno.test("buildBackward() rejects a non-float32 segment on a gradient path", () => {
  const b = new GraphBuilder(17, ["x", "i", "f", "y", "dy"]);
  const types: Record<string, TensorInfo["type"]> = { i: "int64" };
  assert.throws(
    () =>
      buildBackward(b, {
        nodes: [
          node("Cast", ["x"], ["i"], { to: 7 }),
          node("Cast", ["i"], ["f"], { to: 1 }),
          node("Mul", ["f", "x"], ["y"]),
        ],
        info: (n) => ({ type: types[n] ?? "float32", dims: [-1, 3] }),
        constant: () => undefined,
        seeds: new Map([["y", "dy"]]),
        wrt: ["x"],
      }),
    /Cannot differentiate .*Cast.*input "i" is int64.*only flow through float32/,
  );
});

/** A tiny CNN: Conv, BatchNorm, Relu, pooling, Gemm. */
function tinyCnn(): OpCase {
  const r = rng(3);
  const noise = (n: number) => Array.from({ length: n }, () => r() * 2 - 1);
  return {
    nodes: [
      node("Conv", ["x", "w"], ["c"], { pads: [1, 1, 1, 1] }),
      node("BatchNormalization", ["c", "s", "bb", "m", "v"], ["n"]),
      node("Relu", ["n"], ["r"]),
      node("GlobalAveragePool", ["r"], ["p"]),
      node("Flatten", ["p"], ["f"]),
      node("Gemm", ["f", "fc", "fb"], ["y"], { transB: 1 }),
    ],
    inputs: [{ name: "x", dims: ["N", 2, 5, 5] }],
    constants: {
      w: { dims: [4, 2, 3, 3], float: noise(72) },
      s: { dims: [4], float: noise(4) },
      bb: { dims: [4], float: noise(4) },
      m: { dims: [4], float: noise(4) },
      v: { dims: [4], float: [0.5, 1, 1.5, 2] },
      fc: { dims: [3, 4], float: noise(12) },
      fb: { dims: [3], float: noise(3) },
    },
  };
}

Deno.test("buildBackward() with seedCount 2 equals two single-seed passes", async () => {
  await checkSeedCount2(caseModel(tinyCnn()), [2, 5, 5], ["x", "n"]);
});

Deno.test("buildBackward() with seedCount 2 tiles forward values along a later batch axis", async () => {
  // [N, 4, 3] → [4, N, 3] (ViT's attention layout): Mul reads its inputs, Sigmoid its output.
  const model = caseModel({
    nodes: [
      node("Transpose", ["x"], ["t"], { perm: [1, 0, 2] }),
      node("Mul", ["t", "t"], ["s"]),
      node("Sigmoid", ["s"], ["u"]),
      node("ReduceSum", ["u", "axes"], ["y"], { keepdims: 0 }),
    ],
    inputs: [{ name: "x", dims: ["N", 4, 3] }],
    constants: { axes: { dims: [1], int64: [0] } },
  });
  await checkSeedCount2(model, [4, 3], ["x"]);
});

/** Two seeds per image in one pass (seed-major cotangent batch) against two single-seed passes. */
async function checkSeedCount2(model: ModelProto, inputDims: number[], wrt: string[]) {
  const rt = await getRuntime("wasm");
  const shapes = await probeShapes(model, rt, inputDims as [number, number, number]);
  const graph = new Graph(model);
  const b = new GraphBuilder(17, [...graph.initializers.keys(), "x", ...shapes.keys()]);
  b.addInput("dy", ["S", 3]);
  const grads = buildBackward(b, {
    nodes: graph.nodes,
    info: (n) => shapes.get(n),
    constant: (n) => graph.constantValue(n),
    seeds: new Map([["y", "dy"]]),
    wrt,
    seedCount: 2,
  });
  const outputs = wrt.map((w) => onnx.ValueInfoProto.create({ name: grads.get(w)! }));
  const double = await rt.createSession(writeModel(assembleModel(model, b, { outputs })));
  const single = await rt.createSession(writeModel(gradientModel(model, shapes, wrt).model));
  const batch = 3, r = rng(5);
  const per = inputDims.reduce((a, d) => a * d, 1);
  const x = Float32Array.from({ length: batch * per }, () => r() * 2 - 1);
  const seeds = [0, 1].map(() => Float32Array.from({ length: batch * 3 }, () => r() * 2 - 1));
  const xT = { type: "float32" as const, dims: [batch, ...inputDims], data: x };
  const both = await double.run({
    x: xT,
    dy: {
      type: "float32",
      dims: [2 * batch, 3],
      data: Float32Array.from([...seeds[0], ...seeds[1]]),
    },
  });
  for (const [k, seed] of seeds.entries()) {
    const one = await single.run({
      x: xT,
      seed: { type: "float32", dims: [batch, 3], data: seed },
    });
    for (const w of wrt) {
      const g1 = one[`grad:${w}`].data as Float32Array;
      const g2 = (both[grads.get(w)!].data as Float32Array).subarray(
        k * g1.length,
        (k + 1) * g1.length,
      );
      assert.equal(both[grads.get(w)!].data.length, 2 * g1.length);
      for (let i = 0; i < g1.length; i++) {
        assert.ok(Math.abs(g1[i] - g2[i]) <= 1e-6 * (1 + Math.abs(g1[i])), `${w}[${i}], seed ${k}`);
      }
    }
  }
  await double.release();
  await single.release();
}

Deno.test("a missing rule names op, node and supported ops", () => {
  const c: OpCase = {
    nodes: [node("Sin", ["x"], ["e"]), node("Relu", ["e"], ["y"])],
    inputs: [{ name: "x", dims: ["N", 3] }],
  };
  const shapes = new Map([["x", info()], ["e", info()], ["y", info()]]);
  assert.throws(
    () => gradientModel(caseModel(c), shapes, ["x"]),
    (e: Error) =>
      /op "Sin"/.test(e.message) && /node "Sin_e"/.test(e.message) &&
      /supported ops: .*Conv, .*MaxPool/.test(e.message),
  );
});

Deno.test("the finite-difference check catches a wrong rule", async () => {
  const rules = RULES as Record<string, unknown>;
  const neg = rules.Neg;
  rules.Neg = rules.Identity; // wrong sign
  try {
    const res = await checkGradients({
      nodes: [node("Neg", ["x"], ["t"]), node("Mul", ["t", "t"], ["y"])],
      inputs: [{ name: "x", dims: ["N", 4] }],
    });
    assert.ok(res.errors.x > 0.5, `error ${res.errors.x} should be large`);
  } finally {
    rules.Neg = neg;
  }
});

Deno.test("activity() keeps only nodes on a path from wrt to a seed, in reverse order", () => {
  const f32 = { type: "float32" as const, dims: [-1, 4] };
  const nodes = [
    { opType: "Relu", input: ["x"], output: ["a"], name: "n1" },
    { opType: "Exp", input: ["a"], output: ["dead"], name: "n2" }, // not on a path to the seed
    { opType: "Mul", input: ["a", "c"], output: ["y"], name: "n3" },
    { opType: "Neg", input: ["c"], output: ["unvaried"], name: "n4" }, // does not depend on x
  ];
  const act = activity({
    nodes,
    info: () => f32,
    seeds: new Map([["y", "gy"]]),
    wrt: ["x"],
  });
  assert.deepEqual(act.active.map((n) => n.name), ["n3", "n1"]);
  assert.ok(act.varied.has("dead") && !act.useful.has("dead"));
  assert.ok(!act.varied.has("unvaried"));
  assert.deepEqual([...act.useful].sort(), ["a", "x", "y"]);
});
