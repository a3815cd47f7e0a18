/**
 * The authors' S&I loop, written for obviousness rather than speed: per split, per iteration,
 * a forward pass of the remainder R_l and separate backward passes for the largest logit and
 * for the adversarial loss; masks, fractions and the score are computed on the host.
 * The engine's fast formulation is tested against it; `deno task bench` times it.
 * @module
 */
import { remainderGradientModel } from "../grad/gradient_model.ts";
import { type ModelProto, onnx, writeModel } from "../onnx/proto.ts";
import type { ShapeMap } from "../onnx/shapes.ts";
import type { GraphSession, HostTensor, Runtime } from "../runtime/types.ts";
import type { InputBatch, ScoreSettings } from "./types.ts";

/** Per image: the score and the concatenated channel fractions P. */
export interface ReferenceResult {
  readonly score: number;
  readonly fractions: number[];
}

const argmax = (v: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
};

/** Scores each image of `input` with the slow loop. */
export async function referenceScores(
  model: ModelProto,
  runtime: Runtime,
  shapes: ShapeMap,
  splits: readonly string[],
  settings: ScoreSettings,
  input: InputBatch,
): Promise<ReferenceResult[]> {
  const remainders = splits.map((s) => remainderGradientModel(model, shapes, s));
  const sessions: GraphSession[] = [];
  for (const r of remainders) sessions.push(await runtime.createSession(writeModel(r.model)));
  // The unperturbed forward pass: every split value and every side input the remainders read.
  const wanted = [...new Set([...splits, ...remainders.flatMap((r) => r.inputs.slice(1))])];
  const probe = onnx.ModelProto.create({
    ...model,
    graph: onnx.GraphProto.create({ ...model.graph, output: wanted.map((name) => ({ name })) }),
  });
  const forward = await runtime.createSession(writeModel(probe));
  const inputName = forward.inputNames[0];
  const k = shapes.get(model.graph!.output![0].name!)!.dims[1];
  const per = input.dims[1] * input.dims[2] * input.dims[3];
  const results: ReferenceResult[] = [];
  try {
    for (let n = 0; n < input.dims[0]; n++) {
      const x = input.data.slice(n * per, (n + 1) * per);
      const values = await forward.run({
        [inputName]: { type: "float32", dims: [1, ...input.dims.slice(1)], data: x },
      });
      const fractions: number[] = [];
      for (let l = 0; l < splits.length; l++) {
        const sides: Record<string, HostTensor> = {};
        for (const s of remainders[l].inputs.slice(1)) sides[s] = values[s];
        fractions.push(...await splitFractions(sessions[l], sides, values[splits[l]], settings, k));
      }
      const score = -fractions.reduce((a, p) => a + p * p, 0) / fractions.length;
      results.push({ score, fractions });
    }
  } finally {
    for (const s of [...sessions, forward]) await s.release();
  }
  return results;
}

/** The loop of si-method.md for one split of one image; returns p_l (one value per channel). */
async function splitFractions(
  session: GraphSession,
  sides: Record<string, HostTensor>,
  z0: HostTensor,
  s: ScoreSettings,
  k: number,
): Promise<number[]> {
  const dims = z0.dims;
  let z = Float32Array.from(z0.data as Float32Array);
  const run = async (seed: Float32Array) => {
    const out = await session.run({
      ...sides,
      z: { type: "float32", dims, data: z },
      seed: { type: "float32", dims: [1, seed.length], data: seed },
    });
    return { y: out["logits:r"].data as Float32Array, grad: out["grad:z"].data as Float32Array };
  };
  const { y: y0 } = await run(new Float32Array(k));
  const c = argmax(y0);
  let acc: Float32Array | undefined;
  for (let t = 0; t < s.iterations; t++) {
    const { y } = await run(new Float32Array(k));
    const eMax = new Float32Array(k);
    eMax[argmax(y)] = 1;
    const g = (await run(eMax)).grad;
    if (!acc) acc = Float32Array.from(g);
    else {for (let i = 0; i < acc.length; i++) {
        acc[i] = s.integrate === "add" ? acc[i] + g[i] : acc[i] * g[i];
      }}
    let d = g;
    if (s.loss === "ce") {
      const m = Math.max(...y);
      const ex = Array.from(y, (v) => Math.exp(v - m));
      const sum = ex.reduce((a, b) => a + b, 0);
      d = (await run(Float32Array.from(ex, (e, j) => e / sum - (j === c ? 1 : 0)))).grad;
    }
    const alpha = Math.fround(s.alpha);
    const next = new Float32Array(z.length);
    for (let i = 0; i < z.length; i++) next[i] = z[i] + alpha * Math.sign(d[i]);
    z = next;
  }
  const channels = dims[1];
  const spatial = acc!.length / channels;
  return Array.from({ length: channels }, (_, ch) => {
    let nz = 0;
    for (let i = 0; i < spatial; i++) if (acc![ch * spatial + i] !== 0) nz++;
    return nz / spatial;
  });
}
