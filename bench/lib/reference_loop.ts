/**
 * The authors' S&I loop, written for obviousness rather than speed: per split, per iteration,
 * a forward pass of the remainder R_l and separate backward passes for the largest logit and
 * for the adversarial loss (as the authors' code does); masks, fractions and the score are
 * computed on the host. The engine's fast formulation is tested against it; `deno task bench`
 * times it against the fast formulation at the same batch size.
 * @module
 */
import { remainderGradientModel } from "./gradient_model.ts";
import { type ModelProto, onnx, writeModel } from "../../src/onnx/proto.ts";
import type { ShapeMap } from "../../src/onnx/shapes.ts";
import type { GraphSession, HostTensor, Runtime } from "../../src/runtime/types.ts";
import type { InputBatch, ScoreSettings } from "../../src/contract/scoring.ts";

/** Per image: the score and the concatenated channel fractions P. */
export interface ReferenceResult {
  readonly score: number;
  readonly fractions: number[];
}

/** Index of the first maximum of `v[from, from + k)`, relative to `from`. */
function argmax(v: ArrayLike<number>, from: number, k: number): number {
  let best = 0;
  for (let i = 1; i < k; i++) if (v[from + i] > v[from + best]) best = i;
  return best;
}

/** The loop with its sessions built once (one remainder model per split, one forward model). */
export class ReferenceLoop {
  readonly #splits: readonly string[];
  readonly #sides: string[][];
  readonly #sessions: GraphSession[];
  readonly #forward: GraphSession;
  readonly #k: number;
  /** Fixed batch size of models exported with one, else undefined. */
  readonly #staticBatch: number | undefined;

  private constructor(
    splits: readonly string[],
    sides: string[][],
    sessions: GraphSession[],
    forward: GraphSession,
    k: number,
    staticBatch: number | undefined,
  ) {
    this.#splits = splits;
    this.#sides = sides;
    this.#sessions = sessions;
    this.#forward = forward;
    this.#k = k;
    this.#staticBatch = staticBatch;
  }

  /** Builds the remainder models of `splits` and the forward model that feeds them. */
  static async create(
    model: ModelProto,
    runtime: Runtime,
    shapes: ShapeMap,
    splits: readonly string[],
  ): Promise<ReferenceLoop> {
    const remainders = splits.map((s) => remainderGradientModel(model, shapes, s));
    const sessions: GraphSession[] = [];
    for (const r of remainders) sessions.push(await runtime.createSession(writeModel(r.model)));
    // The unperturbed forward pass: every split value and every side input the remainders read.
    const sides = remainders.map((r) => r.inputs.slice(1));
    const wanted = [...new Set([...splits, ...sides.flat()])];
    const probe = onnx.ModelProto.create({
      ...model,
      graph: onnx.GraphProto.create({ ...model.graph, output: wanted.map((name) => ({ name })) }),
    });
    const forward = await runtime.createSession(writeModel(probe));
    const k = shapes.get(model.graph!.output![0].name!)!.dims[1];
    const dim0 = model.graph!.input![0].type?.tensorType?.shape?.dim?.[0]?.dimValue;
    const staticBatch = dim0 && Number(dim0) > 0 ? Number(dim0) : undefined;
    return new ReferenceLoop(splits, sides, sessions, forward, k, staticBatch);
  }

  /** Scores a batch (all images at once in every pass, each image independent). */
  async score(settings: ScoreSettings, input: InputBatch): Promise<ReferenceResult[]> {
    const [n, c, h, w] = input.dims;
    const chunk = this.#staticBatch ?? n;
    const results: ReferenceResult[] = [];
    for (let start = 0; start < n; start += chunk) {
      const data = input.data.subarray(start * c * h * w, (start + chunk) * c * h * w);
      results.push(...await this.#scoreChunk(settings, { data, dims: [chunk, c, h, w] }));
    }
    return results;
  }

  async #scoreChunk(settings: ScoreSettings, input: InputBatch): Promise<ReferenceResult[]> {
    const n = input.dims[0];
    const values = await this.#forward.run({
      [this.#forward.inputNames[0]]: { type: "float32", dims: input.dims, data: input.data },
    });
    const fractions: number[][] = Array.from({ length: n }, () => []);
    for (let l = 0; l < this.#splits.length; l++) {
      const sides: Record<string, HostTensor> = {};
      for (const s of this.#sides[l]) sides[s] = values[s];
      const p = await splitFractions(
        this.#sessions[l],
        sides,
        values[this.#splits[l]],
        settings,
        this.#k,
      );
      p.forEach((row, i) => fractions[i].push(...row));
    }
    return fractions.map((f) => ({
      score: -f.reduce((a, p) => a + p * p, 0) / f.length,
      fractions: f,
    }));
  }

  /** Frees the sessions. */
  async release(): Promise<void> {
    for (const s of [...this.#sessions, this.#forward]) await s.release();
  }
}

/** Builds the loop, scores `input` once and frees it. */
export async function referenceScores(
  model: ModelProto,
  runtime: Runtime,
  shapes: ShapeMap,
  splits: readonly string[],
  settings: ScoreSettings,
  input: InputBatch,
): Promise<ReferenceResult[]> {
  const loop = await ReferenceLoop.create(model, runtime, shapes, splits);
  try {
    return await loop.score(settings, input);
  } finally {
    await loop.release();
  }
}

/** The loop of docs/method.md (S&I, Z variant) for one split; p_l per image, one per channel. */
async function splitFractions(
  session: GraphSession,
  sides: Record<string, HostTensor>,
  z0: HostTensor,
  s: ScoreSettings,
  k: number,
): Promise<number[][]> {
  const dims = z0.dims;
  const n = dims[0];
  let z = Float32Array.from(z0.data as Float32Array);
  const run = async (seed: Float32Array) => {
    const out = await session.run({
      ...sides,
      z: { type: "float32", dims, data: z },
      seed: { type: "float32", dims: [n, k], data: seed },
    });
    return { y: out["logits:r"].data as Float32Array, grad: out["grad:z"].data as Float32Array };
  };
  const { y: y0 } = await run(new Float32Array(n * k));
  const c = Array.from({ length: n }, (_, i) => argmax(y0, i * k, k));
  let acc: Float32Array | undefined;
  for (let t = 0; t < s.iterations; t++) {
    const { y } = await run(new Float32Array(n * k));
    const eMax = new Float32Array(n * k);
    for (let i = 0; i < n; i++) eMax[i * k + argmax(y, i * k, k)] = 1;
    const g = (await run(eMax)).grad;
    if (!acc) acc = Float32Array.from(g);
    else {
      for (let i = 0; i < acc.length; i++) {
        acc[i] = s.integrate === "add" ? acc[i] + g[i] : acc[i] * g[i];
      }
    }
    let d = g;
    if (s.loss === "ce") {
      const seed = new Float32Array(n * k);
      for (let i = 0; i < n; i++) {
        const row = y.subarray(i * k, (i + 1) * k);
        const m = Math.max(...row);
        const ex = Array.from(row, (v) => Math.exp(v - m));
        const sum = ex.reduce((a, b) => a + b, 0);
        for (let j = 0; j < k; j++) seed[i * k + j] = ex[j] / sum - (j === c[i] ? 1 : 0);
      }
      d = (await run(seed)).grad;
    }
    const alpha = Math.fround(s.alpha);
    const next = new Float32Array(z.length);
    for (let i = 0; i < z.length; i++) next[i] = z[i] + alpha * Math.sign(d[i]);
    z = next;
  }
  const channels = dims[1];
  const per = acc!.length / n;
  const spatial = per / channels;
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: channels }, (_, ch) => {
      let nz = 0;
      const base = i * per + ch * spatial;
      for (let j = 0; j < spatial; j++) if (acc![base + j] !== 0) nz++;
      return nz / spatial;
    }));
}
