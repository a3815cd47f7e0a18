/**
 * Finite-difference checks of compiled gradients on tiny graphs, run through onnxruntime-web
 * WASM.
 *
 * A case is a small graph with one float output y. The gradient model is seeded with a random
 * cotangent R, so the checked scalar is f(x) = Σ R·y, which is sensitive to every output. For
 * every input the check compares, in float64 on the host, the analytic change gᵀ(x₊ − x₋) with
 * f(x₊) − f(x₋), where x± = float32(x ± h·v) are exactly the points fed to the model (so rounding
 * the points to float32 adds no error). Two directions: v = g/max|g| + 0.3·noise (a random
 * direction alone gives a tiny directional derivative dominated by float32 noise on large
 * tensors) and pure noise (its error is measured against ‖g‖·‖x₊ − x₋‖, the Cauchy–Schwarz
 * scale of the change).
 * @module
 */
import assert from "node:assert/strict";
import { gradientModel } from "../../bench/lib/gradient_model.ts";
import { valueInfo } from "../../src/onnx/builder.ts";
import { Graph } from "../../src/onnx/graph.ts";
import { type ModelProto, type NodeProto, onnx, writeModel } from "../../src/onnx/proto.ts";
import type { ShapeMap, TensorInfo } from "../../src/onnx/shapes.ts";
import { type AttrValue, floatTensor, int64Tensor, makeAttrs } from "../../src/onnx/tensor.ts";
import { getRuntime } from "../../src/runtime/runtime.ts";
import type { DType } from "../../src/onnx/shapes.ts";
import type { GraphSession, HostTensor } from "../../src/runtime/types.ts";
import { mulberry32 } from "../../src/inputs/noise.ts";

/** Deterministic uniform [0, 1) numbers (the noise inputs' mulberry32). */
export const rng = mulberry32;

/** A graph input: "N" in dims marks the batch dimension. */
export interface CaseInput {
  readonly name: string;
  readonly dims: readonly (number | "N")[];
  /** Range of the uniform values (default [-2, 2]). */
  readonly range?: readonly [number, number];
  /** Values within 0.05 of these points are redrawn (keeps inputs away from kinks). */
  readonly avoid?: readonly number[];
  /** Evenly spaced values (gap ≥ 0.02) in random order: no ties, no near-ties (MaxPool). */
  readonly distinct?: boolean;
}

/** A tiny single-output graph to check. */
export interface OpCase {
  readonly nodes: readonly NodeProto[];
  readonly inputs: readonly CaseInput[];
  /** Constant tensors: float arrays, or `{int64}` for integer parameters. */
  readonly constants?: Record<string, { dims: number[]; float?: number[]; int64?: number[] }>;
  /** The output tensor (default "y"). */
  readonly output?: string;
  readonly opset?: number;
  /** Batch size of the check (default 2). */
  readonly batch?: number;
  readonly seed?: number;
}

/** A node literal. */
export function node(
  opType: string,
  input: string[],
  output: string[],
  attrs: Record<string, AttrValue> = {},
): NodeProto {
  return { opType, input, output, name: `${opType}_${output[0]}`, attribute: makeAttrs(attrs) };
}

/** Builds the case's forward model (batch dimension symbolic). */
export function caseModel(c: OpCase): ModelProto {
  const output = c.output ?? "y";
  const inits = Object.entries(c.constants ?? {}).map(([name, t]) =>
    t.int64 ? int64Tensor(name, t.dims, t.int64) : floatTensor(name, t.dims, t.float ?? [])
  );
  return onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: c.opset ?? 17 }],
    graph: {
      name: "case",
      node: [...c.nodes],
      initializer: inits,
      input: c.inputs.map((i) => valueInfo(i.name, i.dims.map((d) => (d === "N" ? "N" : d)))),
      output: [onnx.ValueInfoProto.create({ name: output })],
    },
  });
}

function inputValues(inp: CaseInput, batch: number, rand: () => number): Float32Array {
  const n = inp.dims.reduce<number>((a, d) => a * (d === "N" ? batch : d), 1);
  const [lo, hi] = inp.range ?? [-2, 2];
  const out = new Float32Array(n);
  if (inp.distinct) {
    const order = Array.from({ length: n }, (_, i) => i).sort(() => rand() - 0.5);
    const gap = Math.max(0.02, (hi - lo) / n);
    order.forEach((k, i) => (out[i] = lo + k * gap));
    return out;
  }
  for (let i = 0; i < n; i++) {
    let v: number;
    do v = lo + (hi - lo) * rand(); while ((inp.avoid ?? []).some((p) => Math.abs(v - p) < 0.05));
    out[i] = v;
  }
  return out;
}

const dimsAt = (inp: CaseInput, batch: number) => inp.dims.map((d) => (d === "N" ? batch : d));

/** Shapes of every tensor, by running the graph at batch 1 and 2 (batch dims become -1). */
async function caseShapes(c: OpCase, model: ModelProto): Promise<ShapeMap> {
  const rt = await getRuntime("wasm");
  const graph = new Graph(model);
  const names = graph.nodes.flatMap((n) => (n.output ?? []).filter((o) => o));
  const probe = onnx.ModelProto.create({ ...model, graph: { ...model.graph } });
  probe.graph!.output = names.map((name) => onnx.ValueInfoProto.create({ name }));
  const session = await rt.createSession(writeModel(probe));
  const runs: Record<string, HostTensor>[] = [];
  const rand = rng(99);
  for (const batch of [1, 2]) {
    const feeds: Record<string, HostTensor> = {};
    for (const i of c.inputs) {
      feeds[i.name] = {
        type: "float32",
        dims: dimsAt(i, batch),
        data: inputValues(i, batch, rand),
      };
    }
    runs.push(await session.run(feeds));
  }
  await session.release();
  const map = new Map<string, TensorInfo>();
  for (const i of c.inputs) {
    map.set(i.name, { type: "float32", dims: i.dims.map((d) => (d === "N" ? -1 : d)) });
  }
  for (const name of names) {
    const [a, b] = [runs[0][name], runs[1][name]];
    map.set(name, { type: a.type, dims: a.dims.map((d, k) => (b.dims[k] === d ? d : -1)) });
  }
  for (const [name, t] of Object.entries(c.constants ?? {})) {
    map.set(name, { type: (t.int64 ? "int64" : "float32") as DType, dims: t.dims });
  }
  return map;
}

/** Outcome of a check: the worst relative error per input and the gradient model. */
export interface FdResult {
  readonly errors: Record<string, number>;
  readonly gradientOps: readonly string[];
}

const f32 = (dims: readonly number[], data: Float32Array): HostTensor => ({
  type: "float32",
  dims,
  data,
});

/** Compiles the gradient of every case input and checks it against finite differences. */
export async function checkGradients(c: OpCase): Promise<FdResult> {
  const model = caseModel(c);
  const shapes = await caseShapes(c, model);
  const wrt = c.inputs.map((i) => i.name);
  const gm = gradientModel(model, shapes, wrt);
  const gradientOps = (gm.model.graph!.node ?? []).map((n) => n.opType!);
  assert.ok(!gradientOps.includes("Sign"), "a rule emitted Sign (CPU fallback on WebGPU)");
  for (const n of gm.model.graph!.node ?? []) {
    assert.ok(!n.domain || n.domain === "ai.onnx", `non-standard op ${n.domain}.${n.opType}`);
  }
  const rt = await getRuntime("wasm");
  const session = await rt.createSession(writeModel(gm.model));
  try {
    return { errors: await compare(c, session, gm, shapes), gradientOps };
  } finally {
    await session.release();
  }
}

async function compare(
  c: OpCase,
  session: GraphSession,
  gm: ReturnType<typeof gradientModel>,
  shapes: ShapeMap,
): Promise<Record<string, number>> {
  const batch = c.batch ?? 2;
  const rand = rng(c.seed ?? 1);
  const feeds: Record<string, HostTensor> = {};
  for (const i of c.inputs) feeds[i.name] = f32(dimsAt(i, batch), inputValues(i, batch, rand));
  const yDims = shapes.get(gm.output)!.dims.map((d) => (d < 0 ? batch : d));
  const r = Float32Array.from({ length: yDims.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1);
  feeds[gm.seed] = f32(yDims, r);
  const base = await session.run(feeds);
  const f = async (name: string, x: Float32Array) => {
    const y = (await session.run({ ...feeds, [name]: f32(feeds[name].dims, x) }, [gm.output]))[
      gm.output
    ].data as Float32Array;
    let s = 0;
    for (let k = 0; k < y.length; k++) s += r[k] * y[k];
    return s;
  };
  const errors: Record<string, number> = {};
  for (const inp of c.inputs) {
    const x = feeds[inp.name].data as Float32Array;
    const g = base[gm.grads.get(inp.name)!].data as Float32Array;
    assert.equal(g.length, x.length, `gradient of ${inp.name} has the input's size`);
    let gMax = 0, rms = 0;
    for (let k = 0; k < x.length; k++) {
      gMax = Math.max(gMax, Math.abs(g[k]));
      rms += x[k] * x[k];
    }
    assert.ok(gMax > 0, `gradient of ${inp.name} is identically zero: the check would be vacuous`);
    const h = 1e-3 * Math.max(Math.sqrt(rms / x.length), 0.1);
    let worst = 0;
    for (const guided of [true, false]) {
      const v = Array.from(x, (_, k) => (guided ? g[k] / gMax : 0) + 0.3 * (rand() * 2 - 1));
      const xp = x.map((xi, k) => xi + h * v[k]), xm = x.map((xi, k) => xi - h * v[k]);
      let an = 0, dn = 0, gn = 0;
      for (let k = 0; k < x.length; k++) {
        const d = xp[k] - xm[k];
        an += g[k] * d;
        dn += d * d;
        gn += g[k] * g[k];
      }
      const fd = (await f(inp.name, xp)) - (await f(inp.name, xm));
      const scale = guided ? Math.abs(an) : Math.sqrt(gn * dn);
      worst = Math.max(worst, Math.abs(fd - an) / scale);
    }
    errors[inp.name] = worst;
  }
  return errors;
}

/** Runs {@link checkGradients} and asserts every relative error is at most `tol`. */
export async function assertGradients(c: OpCase, tol = 1e-3): Promise<FdResult> {
  const res = await checkGradients(c);
  for (const [name, e] of Object.entries(res.errors)) {
    assert.ok(e <= tol, `gradient of "${name}": relative error ${e.toExponential(2)} > ${tol}`);
  }
  return res;
}

/** Compiles a case's gradient model and runs it once on given inputs and cotangent. */
export async function gradientValues(
  c: OpCase,
  inputs: Record<string, Float32Array>,
  seed: Float32Array,
): Promise<Record<string, Float32Array>> {
  const model = caseModel(c);
  const shapes = await caseShapes(c, model);
  const gm = gradientModel(model, shapes, c.inputs.map((i) => i.name));
  const session = await (await getRuntime("wasm")).createSession(writeModel(gm.model));
  try {
    const batch = c.batch ?? 2;
    const feeds: Record<string, HostTensor> = {};
    for (const i of c.inputs) feeds[i.name] = f32(dimsAt(i, batch), inputs[i.name]);
    const yDims = shapes.get(gm.output)!.dims.map((d) => (d < 0 ? batch : d));
    feeds[gm.seed] = f32(yDims, seed);
    const out = await session.run(feeds);
    const res: Record<string, Float32Array> = {};
    for (const [w, g] of gm.grads) res[w] = out[g].data as Float32Array;
    return res;
  } finally {
    await session.release();
  }
}
