/**
 * Small ONNX graphs built in tests, with plain-JS reference computations.
 * @module
 */
import { onnx } from "../../src/onnx/proto.ts";
import { floatTensor, int64Tensor, makeAttrs } from "../../src/onnx/tensor.ts";

/** A float32 value info; a dimension of -1 is dynamic ("N"). */
export function floatInfo(name: string, dims: readonly number[]) {
  const dim = dims.map((d) => (d < 0 ? { dimParam: "N" } : { dimValue: d }));
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: 1, shape: { dim } } },
  });
}

/** Serializes a one-graph opset-17 model. */
export function model(graph: Parameters<typeof onnx.GraphProto.create>[0]): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: onnx.GraphProto.create(graph),
  })).finish();
}

/** Deterministic pseudo-random values in [-1, 1). */
export function noise(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Shapes of the gates graph: x [1, CI, H, W], ConvTranspose weight [CI, CO, 3, 3]. */
export const GATES = { CI: 2, CO: 3, H: 4, W: 4 } as const;

/**
 * The "gates" graph: `m = Cast(Greater(x, 0))`, `g = Where(Greater(x, 0), x, 0.5·x)`,
 * `t = ConvTranspose(g·m + g, w, pads 1)` and `s = ReduceSum(t, axes [2, 3])`. Outputs `m`,
 * `t`, `s`. These are the ops the gradient graphs lean on.
 */
export function gatesModel(weight: Float32Array): Uint8Array {
  const { CI, CO, H, W } = GATES;
  return model({
    name: "gates",
    node: [
      { opType: "Greater", input: ["x", "zero"], output: ["pos"], name: "greater" },
      {
        opType: "Cast",
        input: ["pos"],
        output: ["m"],
        name: "cast",
        attribute: makeAttrs({ to: 1 }),
      },
      { opType: "Mul", input: ["x", "half"], output: ["xh"], name: "mul_half" },
      { opType: "Where", input: ["pos", "x", "xh"], output: ["g"], name: "where" },
      { opType: "Mul", input: ["g", "m"], output: ["gm"], name: "mul_mask" },
      { opType: "Add", input: ["gm", "g"], output: ["u"], name: "add" },
      {
        opType: "ConvTranspose",
        input: ["u", "w"],
        output: ["t"],
        name: "convt",
        attribute: makeAttrs({ kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] }),
      },
      {
        opType: "ReduceSum",
        input: ["t", "axes"],
        output: ["s"],
        name: "reduce",
        attribute: makeAttrs({ keepdims: 0 }),
      },
    ],
    initializer: [
      floatTensor("zero", [], [0]),
      floatTensor("half", [], [0.5]),
      floatTensor("w", [CI, CO, 3, 3], weight),
      int64Tensor("axes", [2], [2, 3]),
    ],
    input: [floatInfo("x", [1, CI, H, W])],
    output: [floatInfo("m", [1, CI, H, W]), floatInfo("t", [1, CO, H, W]), floatInfo("s", [1, CO])],
  });
}

/** The gates graph computed in float64 JS: `{m, t, s}`. */
export function gatesReference(x: Float32Array, w: Float32Array) {
  const { CI, CO, H, W } = GATES;
  const m = Array.from(x, (v) => (v > 0 ? 1 : 0));
  const u = Array.from(x, (v, i) => {
    const g = v > 0 ? v : 0.5 * v;
    return g * m[i] + g;
  });
  const t = new Array<number>(CO * H * W).fill(0);
  // ConvTranspose, stride 1, pads 1: input pixel (i, j) adds w[ci, co, kh, kw] at (i + kh − 1, j + kw − 1).
  for (let ci = 0; ci < CI; ci++) {
    for (let co = 0; co < CO; co++) {
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < W; j++) {
          for (let kh = 0; kh < 3; kh++) {
            for (let kw = 0; kw < 3; kw++) {
              const oi = i + kh - 1, oj = j + kw - 1;
              if (oi < 0 || oi >= H || oj < 0 || oj >= W) continue;
              t[(co * H + oi) * W + oj] += u[(ci * H + i) * W + j] *
                w[((ci * CO + co) * 3 + kh) * 3 + kw];
            }
          }
        }
      }
    }
  }
  const s = Array.from({ length: CO }, (_, co) => {
    let sum = 0;
    for (let k = 0; k < H * W; k++) sum += t[co * H * W + k];
    return sum;
  });
  return { m, t, s };
}
