/**
 * Splits follow the graph's layout (src/si/channel_axis.ts): the same network with its split
 * tensors channels-last ([N, H, W, C], ConvNeXt/Swin-style LayerNorm outputs) or transposed to
 * [N, C, H, W] scores the same, and a normalization after the pool is not a split.
 */
import assert from "node:assert/strict";
import { assembleModel } from "../../src/onnx/assemble.ts";
import { GraphBuilder, valueInfo } from "../../src/onnx/builder.ts";
import { Graph } from "../../src/onnx/graph.ts";
import { onnx, readModel, writeModel } from "../../src/onnx/proto.ts";
import { SiEngine } from "../../src/engine/engine.ts";
import type { Method } from "../../src/contract/scoring.ts";
import { channelAxis } from "../../src/si/channel_axis.ts";
import { resolveSplits } from "../../src/si/splits.ts";
import { rng, tinyInputs } from "./tiny_model.ts";

const TO_NHWC = [0, 2, 3, 1], TO_NCHW = [0, 3, 1, 2];

/**
 * Conv → [N,H,W,C] LayerNorm → Relu → pointwise MatMul → Conv (stride 2) → LayerNorm → Sigmoid →
 * MatMul → GAP → head LayerNorm → Gemm (with Sigmoid alone, `si`'s masks would be all ones). With `transposedSplits`, each block LayerNorm output is transposed to
 * NCHW and back (identity in value), so the split tensors can be named in either layout.
 */
function convNextLike(transposedSplits: boolean): { bytes: Uint8Array; splits: string[] } {
  const r = rng(3);
  const rand = (n: number, s: number) => Array.from({ length: n }, () => (r() * 2 - 1) * s);
  const b = new GraphBuilder(17, ["input", "logits"], "m");
  const conv = (x: string, cin: number, cout: number, stride: number) =>
    b.op("Conv", [x, b.floatInit("w", [cout, cin, 3, 3], rand(cout * cin * 9, 0.4))], {
      kernel_shape: [3, 3],
      pads: [1, 1, 1, 1],
      strides: [stride, stride],
    });
  const ln = (x: string, c: number) =>
    b.op("LayerNormalization", [
      x,
      b.floatInit("g", [c], rand(c, 0.5).map((v) => v + 1)),
      b.floatInit("beta", [c], rand(c, 0.2)),
    ], { axis: -1, epsilon: { float: 1e-6 } });
  const splits: string[] = [];
  const block = (x: string, cin: number, c: number, stride: number, act: string) => {
    const nhwc = b.op("Transpose", [conv(x, cin, c, stride)], { perm: TO_NHWC });
    let z = ln(nhwc, c);
    if (transposedSplits) {
      const nchw = b.op("Transpose", [z], { perm: TO_NCHW });
      splits.push(nchw);
      z = b.op("Transpose", [nchw], { perm: TO_NHWC });
    } else splits.push(z);
    const mixed = b.op("MatMul", [b.op(act, [z]), b.floatInit("pw", [c, c], rand(c * c, 0.6))]);
    return b.op("Transpose", [mixed], { perm: TO_NCHW });
  };
  const x2 = block(block("input", 3, 6, 1, "Relu"), 6, 8, 2, "Sigmoid");
  const pooled = b.op("Flatten", [b.op("GlobalAveragePool", [x2])], { axis: 1 });
  const normed = ln(pooled, 8);
  b.nodes.push({
    opType: "Gemm",
    input: [
      normed,
      b.floatInit("fc", [5, 8], rand(40, 1.5)),
      b.floatInit("fcb", [5], rand(5, 0.1)),
    ],
    output: ["logits"],
    name: "fc",
    attribute: [{ name: "transB", type: 2, i: 1 }],
  });
  const base = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: { name: "cnx", node: [], initializer: [], input: [valueInfo("input", ["N", 3, 8, 8])] },
  });
  const bytes = writeModel(assembleModel(base, b, { outputs: [valueInfo("logits", ["N", 5])] }));
  return { bytes, splits };
}

const N = 3;
const input = { data: tinyInputs(N), dims: [N, 3, 8, 8] as [number, number, number, number] };

async function engineFor(transposed: boolean) {
  const { bytes, splits } = convNextLike(transposed);
  const engine = await SiEngine.create({
    modelBytes: bytes,
    backend: "wasm",
    inputDims: [3, 8, 8],
    splitPolicy: { kind: "tensors", names: splits },
  });
  return { engine, splits, graph: new Graph(readModel(bytes)) };
}

const last = await engineFor(false), first = await engineFor(true);

Deno.test("channelAxis() reads the layout from the graph: LayerNorm last axis, Transpose moves it", () => {
  for (const s of last.splits) assert.equal(channelAxis(last.graph, last.engine.shapes, s), 3);
  for (const s of first.splits) assert.equal(channelAxis(first.graph, first.engine.shapes, s), 1);
  // The spatial sizes differ from the channel counts, so a wrong axis changes the averages.
  assert.deepEqual(last.engine.shapes.get(last.splits[1])!.dims, [-1, 4, 4, 8]);
});

Deno.test("transposing the split tensors' layout leaves every gradient method's scores unchanged", async () => {
  const settings = { alpha: 0.05, iterations: 2, loss: "ce", integrate: "add" } as const;
  for (const method of ["si", "si_a", "gaia_a"] as Method[]) {
    const a = await last.engine.score(input, { ...settings, method });
    const b = await first.engine.score(input, { ...settings, method });
    for (let i = 0; i < N; i++) {
      const tol = 1e-5 * Math.abs(b[i].score) + 1e-7;
      assert.ok(
        Math.abs(a[i].score - b[i].score) <= tol,
        `${method} image ${i}: ${a[i].score} (NHWC splits) vs ${b[i].score} (NCHW splits)`,
      );
      assert.ok(Number.isFinite(a[i].score) && a[i].score < 0, `${method} image ${i}`);
    }
    assert.notEqual(a[0].score, a[1].score, `${method} scores depend on the image`);
  }
});

Deno.test("a LayerNorm after the global pool is not a split; the pool output stays h", () => {
  const splits = resolveSplits(last.graph, last.engine.shapes, { kind: "normalization" });
  assert.deepEqual(splits, last.splits, "the head LayerNorm on the pooled vector is skipped");
});
