/**
 * Test oracle: S&I-A and GAIA-A written for obviousness, as the method text reads
 * (docs/method.md, "S&I and GAIA, A variant"). Per split one remainder model R_l(z) with cotangent inputs
 * at the logits AND at the pooled features h, and outputs y, ∂/∂z and ∂/∂h; every iteration runs
 * it separately for y, w, g and d; top-k, sign steps, o, q and the score are computed on the host
 * in float64. It shares only the per-op gradient rules (finite-difference tested in tests/grad/)
 * with the engine — none of the seed stacking, stacked remainders, masks or score graph.
 * @module
 */
import { buildBackward } from "../../src/grad/backward.ts";
import { cloneRemainder } from "../../src/grad/remainder.ts";
import { assembleModel } from "../../src/onnx/assemble.ts";
import { GraphBuilder, valueInfo } from "../../src/onnx/builder.ts";
import { Graph } from "../../src/onnx/graph.ts";
import { type ModelProto, onnx, opsetOf, writeModel } from "../../src/onnx/proto.ts";
import type { ShapeMap } from "../../src/onnx/shapes.ts";
import type { GraphSession, HostTensor, Runtime } from "../../src/runtime/types.ts";
import type { InputBatch, ScoreSettings } from "../../src/contract/scoring.ts";

const dimsOf = (shapes: ShapeMap, name: string) =>
  (shapes.get(name)?.dims ?? []).map((d) => (d < 0 ? "batch" : d));

/** R_split(z) with seeds at y and h; outputs y, grad_z, grad_h. Side inputs come first. */
function remainderModel(model: ModelProto, shapes: ShapeMap, split: string, pooled: string) {
  const graph = new Graph(model);
  const logits = graph.outputNames[0];
  const rem = cloneRemainder(graph, split, "z", "#o");
  const taken = [...graph.initializers.keys(), ...graph.inputNames, "z"];
  for (const n of graph.nodes) taken.push(...(n.output ?? []));
  const b = new GraphBuilder(opsetOf(model), taken, "o");
  b.reserve(rem.nodes.flatMap((n) => n.output ?? []));
  b.addInput("z", dimsOf(shapes, split));
  for (const s of rem.sideInputs) {
    b.addInput(s, dimsOf(shapes, s), shapes.get(s)?.type === "int64" ? 7 : 1);
  }
  b.addInput("seed_y", dimsOf(shapes, logits));
  b.addInput("seed_h", dimsOf(shapes, pooled));
  const y = rem.rename(logits), h = rem.rename(pooled);
  const grads = buildBackward(b, {
    nodes: rem.nodes,
    info: (n) => shapes.get(rem.original(n)),
    constant: (n) => graph.constantValue(n),
    seeds: new Map([[y, "seed_y"], [h, "seed_h"]]),
    wrt: h === "z" ? ["z"] : ["z", h],
  });
  const out = (from: string, name: string) =>
    b.nodes.push({ opType: "Identity", input: [from], output: [name], name: `${name}_id` });
  out(y, "y");
  out(grads.get("z")!, "grad_z");
  out(h === "z" ? "seed_h" : grads.get(h)!, "grad_h");
  return {
    model: assembleModel(model, b, {
      keepNodes: false,
      inputs: [],
      extraNodes: [...rem.constantNodes, ...rem.nodes],
      outputs: [
        valueInfo("y", dimsOf(shapes, logits)),
        valueInfo("grad_z", dimsOf(shapes, split)),
        valueInfo("grad_h", dimsOf(shapes, pooled)),
      ],
    }),
    sides: rem.sideInputs,
  };
}

const softmax = (row: ArrayLike<number>) => {
  const m = Math.max(...Array.from(row));
  const e = Array.from(row, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const argmax = (row: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
};
/** |mean over the spatial axes| per channel, one row per image. */
const channelMeans = (g: ArrayLike<number>, n: number, channels: number) => {
  const per = g.length / n, spatial = per / channels;
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: channels }, (_, c) => {
      let s = 0;
      for (let j = 0; j < spatial; j++) s += g[i * per + c * spatial + j];
      return Math.abs(s / spatial);
    }));
};

/** S&I-A (`si_a`) or GAIA-A (`gaia_a`) scores of a batch; `splits` are z_1 … z_L. */
export async function referenceAScores(
  model: ModelProto,
  runtime: Runtime,
  shapes: ShapeMap,
  splits: readonly string[],
  pooled: string,
  s: ScoreSettings,
  input: InputBatch,
): Promise<number[]> {
  const n = input.dims[0];
  const graph = new Graph(model);
  const k = shapes.get(graph.outputNames[0])!.dims[1];
  const hDims = shapes.get(pooled)!.dims;
  const hSize = hDims.slice(1).reduce((a, d) => a * d, 1);
  const rems = splits.map((z) => remainderModel(model, shapes, z, pooled));
  const wanted = [...new Set([...splits, ...rems.flatMap((r) => r.sides)])];
  const probe = onnx.ModelProto.create({
    ...model,
    graph: onnx.GraphProto.create({ ...model.graph, output: wanted.map((name) => ({ name })) }),
  });
  const fwd = await runtime.createSession(writeModel(probe));
  const values = await fwd.run({
    [graph.inputNames[0]]: { type: "float32", dims: input.dims, data: input.data },
  });
  const sessions: GraphSession[] = [];
  for (const r of rems) sessions.push(await runtime.createSession(writeModel(r.model)));
  const runner = (l: number) => {
    const sides: Record<string, HostTensor> = {};
    for (const x of rems[l].sides) sides[x] = values[x];
    const zDims = values[splits[l]].dims;
    return async (z: Float32Array, seedY: Float32Array, seedH: Float32Array) => {
      const out = await sessions[l].run({
        ...sides,
        z: { type: "float32", dims: zDims, data: z },
        seed_y: { type: "float32", dims: [n, k], data: seedY },
        seed_h: { type: "float32", dims: [n, ...hDims.slice(1)], data: seedH },
      });
      return {
        y: out.y.data as Float32Array,
        gz: out.grad_z.data as Float32Array,
        gh: out.grad_h.data as Float32Array,
      };
    };
  };
  const zeroY = new Float32Array(n * k), zeroH = new Float32Array(n * hSize);
  const lsmSeed = (y: Float32Array) =>
    Float32Array.from({ length: n * k }, (_, j) => {
      const i = Math.floor(j / k);
      return 1 - k * softmax(y.subarray(i * k, (i + 1) * k))[j % k];
    });
  const L = splits.length;
  const channelsOf = (z: string) => shapes.get(z)!.dims[1];
  let outGrad: number[][];
  const inner: number[][][] = [];
  try {
    if (s.method === "gaia_a") {
      // Both gradients at the unperturbed values: o at h, q_l at z_l (l < L).
      const run0 = runner(0);
      const z0 = values[splits[0]].data as Float32Array;
      const { y } = await run0(z0, zeroY, zeroH);
      outGrad = channelMeans((await run0(z0, lsmSeed(y), zeroH)).gh, n, hSize);
      for (let l = 0; l < L - 1; l++) {
        const g = await runner(l)(
          values[splits[l]].data as Float32Array,
          zeroY,
          new Float32Array(n * hSize).fill(1),
        );
        inner.push(channelMeans(g.gz, n, channelsOf(splits[l])));
      }
    } else {
      outGrad = [];
      for (let l = 0; l < L; l++) {
        const acc = await integrated(
          runner(l),
          values[splits[l]].data as Float32Array,
          l === L - 1,
        );
        const means = channelMeans(acc, n, channelsOf(splits[l]));
        if (l === L - 1) outGrad = means;
        else inner.push(means);
      }
    }
  } finally {
    for (const x of [...sessions, fwd]) await x.release();
  }
  return Array.from({ length: n }, (_, i) => {
    const o = Math.sqrt(outGrad[i].reduce((a, v) => a + v, 0) / outGrad[i].length);
    const q = inner.flatMap((layer) => layer[i]);
    return -q.reduce((a, v) => a + (v / o) ** 2, 0) / q.length;
  });

  /** The iteration loop of one split; returns the integrated gradient A_l. */
  async function integrated(
    run: ReturnType<typeof runner>,
    z0: Float32Array,
    output: boolean,
  ): Promise<Float32Array> {
    let z = Float32Array.from(z0);
    const c = Array.from({ length: n }, (_, i) => 0 * i);
    const y0 = (await run(z, zeroY, zeroH)).y;
    for (let i = 0; i < n; i++) c[i] = argmax(y0.subarray(i * k, (i + 1) * k));
    let acc: Float32Array | undefined;
    for (let t = 0; t < s.iterations; t++) {
      const { y } = await run(z, zeroY, zeroH);
      let g: Float32Array;
      if (output) g = (await run(z, lsmSeed(y), zeroH)).gz;
      else {
        const w = (await run(z, new Float32Array(n * k).fill(1), zeroH)).gh;
        const mask = new Float32Array(n * hSize);
        const top = Math.floor(0.9 * hSize);
        for (let i = 0; i < n; i++) {
          const order = Array.from({ length: hSize }, (_, j) => j)
            .sort((a, b) => w[i * hSize + b] - w[i * hSize + a] || a - b);
          for (const j of order.slice(0, top)) mask[i * hSize + j] = 1;
        }
        g = (await run(z, zeroY, mask)).gz;
      }
      acc = !acc
        ? Float32Array.from(g)
        : acc.map((a, j) => s.integrate === "add" ? a + g[j] : a * g[j]);
      let d = g;
      if (s.loss === "ce") {
        const seed = new Float32Array(n * k);
        for (let i = 0; i < n; i++) {
          const p = softmax(y.subarray(i * k, (i + 1) * k));
          for (let j = 0; j < k; j++) seed[i * k + j] = p[j] - (j === c[i] ? 1 : 0);
        }
        d = (await run(z, seed, zeroH)).gz;
      }
      const alpha = Math.fround(s.alpha);
      z = z.map((v, j) => v + alpha * Math.sign(d[j]));
    }
    return acc!;
  }
}
