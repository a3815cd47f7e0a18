/**
 * Folding of initializer-only float sub-graphs, once, with onnxruntime itself.
 *
 * BiT-style models compute every convolution kernel in the graph from a raw initializer (weight
 * standardisation: ReduceMean, Sub, Mul, Sqrt, Div). onnxruntime folds such chains while it
 * creates a session (graph optimisation "basic" and up), so every session pays for it again —
 * the shape probe (optimisation off) even runs them and copies the weight-sized results out —
 * and the gradient compiler cannot treat those kernels as compile-time weights. Here the chains
 * are evaluated once by a session of the backend's own CPU kernels (the kernels onnxruntime's
 * constant folding runs too), and their results become initializers of the model every scoring
 * graph is built from. The values are therefore exactly those of an unfolded run
 * (tests/engine/constant_fold_test.ts compares bit for bit).
 *
 * Boundary: this file folds only sub-graphs that read initializers and Constant nodes alone and
 * whose results (where they meet the rest of the graph) are float32 tensors. Integer shape
 * arithmetic fed by the input's `Shape` (Shape → Gather → … → Reshape/Slice) is not
 * initializer-only and is folded by the graph code in `src/onnx/`/`src/grad/`, not here; integer
 * results of initializer-only nodes are left to onnxruntime.
 * @module
 */
import { Graph } from "../onnx/graph.ts";
import { type ModelProto, type NodeProto, onnx, type TensorProto } from "../onnx/proto.ts";
import type { Runtime } from "../runtime/types.ts";

/** Ops never folded: their value is not a function of their inputs, or they hold sub-graphs. */
const NOT_FOLDABLE = new Set([
  "RandomNormal",
  "RandomNormalLike",
  "RandomUniform",
  "RandomUniformLike",
  "Multinomial",
  "Bernoulli",
  "If",
  "Loop",
  "Scan",
]);

/** Folded tensors fetched per run: bounds what is held at once, in onnxruntime and here. */
const FETCH_CHUNK = 64;

/** The nodes of an initializer-only sub-graph and the tensors where it meets the rest. */
export interface ConstantSubgraph {
  /** Nodes (other than Constant) whose inputs are all initializers or constant, in order. */
  readonly nodes: readonly NodeProto[];
  /** Their outputs read by other nodes or by the graph's outputs: what folding replaces. */
  readonly frontier: readonly string[];
}

/** Finds the initializer-only computation of a graph (empty when there is none). */
export function findConstantSubgraph(graph: Graph): ConstantSubgraph {
  const constant = new Set<string>(["", ...graph.initializers.keys()]);
  const nodes: NodeProto[] = [];
  for (const n of graph.nodes) {
    if (n.opType === "Constant") {
      for (const o of n.output ?? []) constant.add(o);
      continue;
    }
    const inputs = n.input ?? [];
    const foldable = inputs.length > 0 && !NOT_FOLDABLE.has(n.opType ?? "") &&
      !n.domain && inputs.every((i) => constant.has(i));
    if (!foldable) continue;
    nodes.push(n);
    for (const o of n.output ?? []) if (o) constant.add(o);
  }
  const inside = new Set(nodes);
  const outputs = new Set(graph.outputNames);
  const frontier: string[] = [];
  for (const n of nodes) {
    for (const o of n.output ?? []) {
      if (!o) continue;
      const readOutside = (graph.consumers.get(o) ?? []).some((c) => !inside.has(c));
      if (readOutside || outputs.has(o)) frontier.push(o);
    }
  }
  return { nodes, frontier };
}

/**
 * The model with its initializer-only float sub-graphs replaced by initializers, or undefined
 * when it has none. `runtime` must run on the CPU (wasm or native): its kernels give the values.
 */
export async function foldConstants(
  model: ModelProto,
  runtime: Runtime,
): Promise<ModelProto | undefined> {
  const graph = new Graph(model);
  const sub = findConstantSubgraph(graph);
  if (sub.frontier.length === 0) return undefined;
  const values = await evaluate(model, graph, sub, runtime);
  if (values.size === 0) return undefined;
  return replaceWithInitializers(model, graph, values);
}

/** Runs the constant sub-graph alone (optimisation off) and keeps its float32 frontier values. */
async function evaluate(
  model: ModelProto,
  graph: Graph,
  sub: ConstantSubgraph,
  runtime: Runtime,
): Promise<Map<string, TensorProto>> {
  const used = new Set(sub.nodes.flatMap((n) => n.input ?? []));
  const constants = graph.nodes.filter((n) =>
    n.opType === "Constant" && (n.output ?? []).some((o) => used.has(o))
  );
  const evalModel = onnx.ModelProto.create({
    ...model,
    graph: onnx.GraphProto.create({
      name: "constant-subgraph",
      node: [...constants, ...sub.nodes],
      initializer: (model.graph!.initializer ?? []).filter((t) => used.has(t.name!)),
      input: [],
      output: sub.frontier.map((name) => onnx.ValueInfoProto.create({ name })),
    }),
  });
  const session = await runtime.createSession(onnx.ModelProto.encode(evalModel).finish(), {
    oneOff: true,
  });
  const values = new Map<string, TensorProto>();
  try {
    for (let i = 0; i < sub.frontier.length; i += FETCH_CHUNK) {
      const got = await session.run({}, sub.frontier.slice(i, i + FETCH_CHUNK));
      for (const [name, t] of Object.entries(got)) {
        if (t.type !== "float32") continue; // integer results stay with onnxruntime
        const data = t.data as Float32Array;
        const raw = new Uint8Array(data.byteLength);
        raw.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        values.set(
          name,
          onnx.TensorProto.create({ name, dataType: 1, dims: [...t.dims], rawData: raw }),
        );
      }
    }
  } finally {
    await session.release();
  }
  return values;
}

/**
 * The model with `values` as initializers, minus the nodes and initializers nothing reads any
 * more (raw weights read only by the folded chains).
 */
function replaceWithInitializers(
  model: ModelProto,
  graph: Graph,
  values: ReadonlyMap<string, TensorProto>,
): ModelProto {
  const needed = new Set<string>(graph.outputNames);
  const keep: NodeProto[] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i];
    const outs = (n.output ?? []).filter(Boolean);
    // A constant node whose every output is folded or unread goes; nodes on the input's path and
    // nodes without outputs stay as they are.
    const feedsSomething = outs.some((o) => needed.has(o) && !values.has(o));
    if (outs.length > 0 && !feedsSomething && graph.isConstant(outs[0])) continue;
    keep.push(n);
    for (const input of n.input ?? []) if (input) needed.add(input);
  }
  keep.reverse();
  const order = new Map((model.graph!.node ?? []).map((n, i) => [n, i]));
  keep.sort((a, b) => order.get(a)! - order.get(b)!);
  const initializers = [
    ...(model.graph!.initializer ?? []).filter((t) => needed.has(t.name!) && !values.has(t.name!)),
    ...[...values.values()].filter((t) => needed.has(t.name!)),
  ];
  const kept = new Set(initializers.map((t) => t.name!));
  const input = (model.graph!.input ?? []).filter((v) =>
    !graph.initializers.has(v.name!) || kept.has(v.name!)
  );
  return onnx.ModelProto.create({
    ...model,
    graph: onnx.GraphProto.create({
      ...model.graph,
      node: keep,
      initializer: initializers,
      input,
    }),
  });
}
