/**
 * A tiny residual CNN built in code, with random (seeded) weights, for engine tests:
 * Conv→BN→Relu → Conv→BN→LeakyRelu (+ skip) → strided Conv→BN→Sigmoid → GAP → Flatten → Gemm.
 * The non-ReLU activations make the S&I iterations t ≥ 1 change the masks.
 */
import { assembleModel } from "../../src/onnx/assemble.ts";
import { GraphBuilder, valueInfo } from "../../src/onnx/builder.ts";
import { onnx, writeModel } from "../../src/onnx/proto.ts";
import { mulberry32 } from "../../src/inputs/noise.ts";

/** Deterministic uniform [0, 1) numbers (the noise inputs' mulberry32). */
export const rng = mulberry32;

/** Topology variants of the tiny model. */
export type TinyVariant =
  /** Conv→BN→Relu, residual block, strided block, GAP, Flatten, Gemm. */
  | "residual"
  /** The residual block's skip gets its own Conv→BN branch (a projection shortcut). */
  | "parallel"
  /** Flatten as Reshape to [Shape(input)[0], −1]: a shape computed outside the remainders. */
  | "input-shape";

/** Serialized tiny model: input "input" [N,3,8,8], output "logits" [N,5]. */
export function tinyModel(seed = 1, variant: TinyVariant = "residual"): Uint8Array {
  const r = rng(seed);
  const rand = (n: number, scale: number) => Array.from({ length: n }, () => (r() * 2 - 1) * scale);
  const b = new GraphBuilder(17, ["input", "logits"], "m");
  const conv = (x: string, cin: number, cout: number, stride: number) =>
    b.op("Conv", [x, b.floatInit("w", [cout, cin, 3, 3], rand(cout * cin * 9, 0.4))], {
      kernel_shape: [3, 3],
      pads: [1, 1, 1, 1],
      strides: [stride, stride],
    });
  const bn = (x: string, c: number) =>
    b.op("BatchNormalization", [
      x,
      b.floatInit("scale", [c], rand(c, 0.5).map((v) => v + 1)),
      b.floatInit("bias", [c], rand(c, 0.2)),
      b.floatInit("mean", [c], rand(c, 0.1)),
      b.floatInit("var", [c], rand(c, 0.3).map((v) => v + 1)),
    ], { epsilon: { float: 1e-5 } });
  const a = b.op("Relu", [bn(conv("input", 3, 8, 1), 8)]);
  const c = b.op("LeakyRelu", [bn(conv(a, 8, 8, 1), 8)], { alpha: { float: 0.1 } });
  const other = variant === "parallel" ? b.op("Relu", [bn(conv(a, 8, 8, 1), 8)]) : a;
  const sum = b.op("Add", [other, c]);
  const d = b.op("Sigmoid", [bn(conv(sum, 8, 12, 2), 12)]);
  const pooled = b.op("GlobalAveragePool", [d]);
  const flat = variant === "input-shape"
    ? b.op("Reshape", [
      pooled,
      b.op("Concat", [
        b.op("Slice", [b.op("Shape", ["input"]), b.int64([0]), b.int64([1])]),
        b.int64([-1]),
      ], { axis: 0 }),
    ])
    : b.op("Flatten", [pooled], { axis: 1 });
  const w = b.floatInit("fc", [5, 12], rand(60, 1.5));
  b.nodes.push({
    opType: "Gemm",
    input: [flat, w, b.floatInit("fcb", [5], rand(5, 0.1))],
    output: ["logits"],
    name: "fc",
    attribute: [{ name: "transB", type: 2, i: 1 }],
  });
  const base = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: { name: "tiny", node: [], initializer: [], input: [valueInfo("input", ["N", 3, 8, 8])] },
  });
  return writeModel(assembleModel(base, b, { outputs: [valueInfo("logits", ["N", 5])] }));
}

/** `n` random inputs [n,3,8,8]. */
export function tinyInputs(n: number, seed = 7): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n * 3 * 64 }, () => (r() * 2 - 1) * 1.5);
}

/**
 * A tiny torchvision-style bottleneck with a projection shortcut, nodes in torchvision's export
 * order (main branch first, so the shortcut's BatchNorm follows the main branch's):
 * Conv→BN→Relu = a; main: Conv→BN→LeakyRelu→Conv→BN; shortcut: Conv 1×1 (stride 2)→BN;
 * Add → Sigmoid → GAP → Flatten → Gemm. Input "input" [N,3,8,8], output "logits" [N,5].
 */
export function tinyProjectionModel(seed = 3): Uint8Array {
  const r = rng(seed);
  const rand = (n: number, scale: number) => Array.from({ length: n }, () => (r() * 2 - 1) * scale);
  const b = new GraphBuilder(17, ["input", "logits"], "p");
  const conv = (x: string, cin: number, cout: number, k: number, stride: number) =>
    b.op("Conv", [x, b.floatInit("w", [cout, cin, k, k], rand(cout * cin * k * k, 0.5))], {
      kernel_shape: [k, k],
      pads: Array(4).fill((k - 1) / 2),
      strides: [stride, stride],
    });
  const bn = (x: string, c: number) =>
    b.op("BatchNormalization", [
      x,
      b.floatInit("scale", [c], rand(c, 0.5).map((v) => v + 1)),
      b.floatInit("bias", [c], rand(c, 0.2)),
      b.floatInit("mean", [c], rand(c, 0.1)),
      b.floatInit("var", [c], rand(c, 0.3).map((v) => v + 1)),
    ], { epsilon: { float: 1e-5 } });
  const a = b.op("Relu", [bn(conv("input", 3, 6, 3, 1), 6)]);
  const m1 = b.op("LeakyRelu", [bn(conv(a, 6, 6, 3, 2), 6)], { alpha: { float: 0.1 } });
  const main = bn(conv(m1, 6, 8, 3, 1), 8);
  const shortcut = bn(conv(a, 6, 8, 1, 2), 8);
  const d = b.op("Sigmoid", [b.op("Add", [main, shortcut])]);
  const flat = b.op("Flatten", [b.op("GlobalAveragePool", [d])], { axis: 1 });
  b.nodes.push({
    opType: "Gemm",
    input: [flat, b.floatInit("fc", [5, 8], rand(40, 2)), b.floatInit("fcb", [5], rand(5, 0.1))],
    output: ["logits"],
    name: "fc",
    attribute: [{ name: "transB", type: 2, i: 1 }],
  });
  const base = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: { name: "proj", node: [], initializer: [], input: [valueInfo("input", ["N", 3, 8, 8])] },
  });
  return writeModel(assembleModel(base, b, { outputs: [valueInfo("logits", ["N", 5])] }));
}
