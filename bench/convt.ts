/**
 * Microbenchmark for the "measured lead": a 3×3 stride-1 ConvTranspose against the
 * equivalent Conv (kernel flipped in both spatial axes, channel axes swapped, same padding).
 * The two compute the same values — which the harness checks before timing them.
 * @module
 */
import { onnx } from "../src/onnx/proto.ts";
import { floatTensor, makeAttrs } from "../src/onnx/tensor.ts";
import type { HostTensor, Runtime } from "../src/runtime/types.ts";
import { benchInput, type Workload } from "./workload.ts";

/** A convolution layer size: C channels in and out, H×W pixels. */
export interface ConvShape {
  readonly channels: number;
  readonly size: number;
}

/** The three stages of Wide-ResNet-40-2 on 32×32 inputs. */
export const WRN_STAGES: readonly ConvShape[] = [
  { channels: 32, size: 32 },
  { channels: 64, size: 16 },
  { channels: 128, size: 8 },
];

function convModel(op: "Conv" | "ConvTranspose", s: ConvShape, w: Float32Array): Uint8Array {
  const dims = (n: number) => [n, s.channels, s.size, s.size].map((d) => ({ dimValue: d }));
  const info = (name: string) =>
    onnx.ValueInfoProto.create({
      name,
      type: {
        tensorType: { elemType: 1, shape: { dim: [{ dimParam: "N" }, ...dims(1).slice(1)] } },
      },
    });
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: op,
      node: [{
        opType: op,
        input: ["x", "w"],
        output: ["y"],
        name: op.toLowerCase(),
        attribute: makeAttrs({ kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] }),
      }],
      initializer: [floatTensor("w", [s.channels, s.channels, 3, 3], w)],
      input: [info("x")],
      output: [info("y")],
    },
  })).finish();
}

/** ConvTranspose weight [Cin, Cout, kh, kw] → the Conv weight [Cout, Cin, kh, kw] flipped. */
export function flipKernel(w: Float32Array, c: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let ci = 0; ci < c; ci++) {
    for (let co = 0; co < c; co++) {
      for (let k = 0; k < 9; k++) out[(co * c + ci) * 9 + (8 - k)] = w[(ci * c + co) * 9 + k];
    }
  }
  return out;
}

/** The pair of workloads for one layer size, plus the largest difference between their outputs. */
export interface ConvPair {
  readonly workloads: readonly Workload[];
  readonly maxAbsDiff: number;
  release(): Promise<void>;
}

/** Builds the ConvTranspose and flipped-Conv workloads for one shape on one runtime. */
export async function convPair(rt: Runtime, s: ConvShape, batch: number): Promise<ConvPair> {
  const w = benchInput(1, [s.channels, s.channels, 3, 3]).data as Float32Array;
  for (let i = 0; i < w.length; i++) w[i] *= 0.05;
  const convT = await rt.createSession(convModel("ConvTranspose", s, w));
  const conv = await rt.createSession(convModel("Conv", s, flipKernel(w, s.channels)));
  const x: HostTensor = benchInput(batch, [s.channels, s.size, s.size]);
  const a = (await convT.run({ x })).y.data as Float32Array;
  const b = (await conv.run({ x })).y.data as Float32Array;
  let maxAbsDiff = 0;
  for (let i = 0; i < a.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[i] - b[i]));
  const model = `c${s.channels}x${s.size}x${s.size}`;
  const make = (name: string, session: typeof conv): Workload => ({
    name,
    model,
    backend: rt.backend,
    batch,
    async run() {
      await session.run({ x });
    },
  });
  return {
    workloads: [make("convtranspose-3x3", convT), make("conv-3x3-flipped", conv)],
    maxAbsDiff,
    async release() {
      await convT.release();
      await conv.release();
    },
  };
}
