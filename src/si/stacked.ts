/**
 * Stacked remainder passes: every split's remainder `R_l` run in ONE forward and ONE backward
 * pass, by stacking the per-split streams along the batch axis.
 *
 * Walking the forward graph in order, a tensor downstream of splits l₁ < … < l_m is carried as
 * `[v_{l₁}; …; v_{l_m}]` (m·N rows), where v_l is its value in R_l. At the split tensor z_l the
 * stream of R_l starts: `[stacked z_l; zᵗ_l]`. An input that lacks some of a node's streams
 * takes its ORIGINAL value for them (a residual branch that started before z_l is not
 * recomputed in R_l) — tiled rows of the unperturbed tensor. The FLOPs are those of the
 * separate remainders, but the graph holds each node once and kernels see large batches.
 *
 * This needs every stream set to be a prefix of the split order, which holds for chain-like
 * networks (VGG, ResNets, MobileNets). Other topologies return `undefined`, and the caller
 * clones one remainder per split instead.
 * @module
 */
import type { GraphBuilder } from "../onnx/builder.ts";
import type { Graph } from "../onnx/graph.ts";
import type { NodeProto } from "../onnx/proto.ts";
import type { ShapeMap, TensorInfo } from "../runtime/shapes.ts";

/** The stacked forward pass of one iteration. */
export interface StackedPass {
  /** Forward nodes of the pass (already appended to the builder), topologically ordered. */
  readonly nodes: NodeProto[];
  /** Stacked logits [L·N, K], streams in split order. */
  readonly logits: string;
  /** Info of every tensor the nodes read or write. */
  info(name: string): TensorInfo | undefined;
  /** The stacked version of an original tensor when it carries every stream, else undefined. */
  allStreams(original: string): string | undefined;
}

/**
 * Emits the stacked forward pass in which split `splits[l]` takes the value `inputs[l]`.
 * Returns undefined when the graph's topology does not allow stacking.
 */
export function emitStackedPass(
  b: GraphBuilder,
  graph: Graph,
  shapes: ShapeMap,
  splits: readonly string[],
  inputs: readonly string[],
  tag: string,
): StackedPass | undefined {
  const splitIndex = new Map(splits.map((s, i) => [s, i]));
  /** Original tensor → its stacked version and how many (prefix) streams it carries. */
  const stacked = new Map<string, { name: string; streams: number }>();
  const info = new Map<string, TensorInfo>();
  const nodes: NodeProto[] = [];
  const emit = (node: NodeProto) => {
    nodes.push(node);
    b.push(node);
  };
  const op = (opType: string, ins: string[], like: string, hint: string, axis0 = false) => {
    const out = b.fresh(hint);
    const attribute = axis0 ? [{ name: "axis", type: 2, i: 0 }] : [];
    emit({ opType, input: ins, output: [out], name: `${out}_node`, attribute });
    info.set(out, shapes.get(like)!);
    return out;
  };
  const tiled = new Map<string, string>();
  /** `count` copies of an original tensor along the batch axis. */
  const copies = (name: string, count: number) => {
    const key = `${name}@${count}`;
    let t = tiled.get(key);
    if (!t) {
      const rank = shapes.get(name)!.dims.length;
      const reps = b.int64(Array.from({ length: rank }, (_, i) => (i === 0 ? count : 1)));
      t = op("Tile", [name, reps], name, `stack${tag}/orig`);
      tiled.set(key, t);
    }
    return t;
  };
  const batchDependent = (name: string) => {
    const i = shapes.get(name);
    return !!i && i.dims[0] === -1 && i.type === "float32";
  };
  /** The input as seen by a node carrying `streams` streams. */
  const expand = (name: string, streams: number): string => {
    const st = stacked.get(name);
    if (st?.streams === streams) return st.name;
    if (!st) {
      if (batchDependent(name)) return copies(name, streams);
      if (graph.isConstant(name)) return name;
      // A value computed at run time from unstacked tensors (e.g. a shape with batch N) would
      // not match the stacked batch.
      throw new NotStackable();
    }
    // Only float activations can be completed with original rows; anything else (e.g. a shape
    // vector computed from fewer streams) means the graph is not stackable.
    if (!batchDependent(name)) throw new NotStackable();
    return op(
      "Concat",
      [st.name, copies(name, streams - st.streams)],
      name,
      `stack${tag}/expand`,
      true,
    );
  };

  for (const node of graph.nodes) {
    const ins = node.input ?? [];
    const streams = Math.max(0, ...ins.map((i) => stacked.get(i)?.streams ?? 0));
    const outs = node.output ?? [];
    if (streams > 0) {
      if (node.opType === "Reshape" && !batchPreservingReshape(graph, ins[1], stacked)) {
        return undefined;
      }
      let inputsOfNode: string[];
      try {
        inputsOfNode = ins.map((i) => (i ? expand(i, streams) : i));
      } catch (e) {
        if (e instanceof NotStackable) return undefined;
        throw e;
      }
      const renamed = outs.map((o) => (o ? b.fresh(`${o}#${tag}`) : o));
      emit({
        ...node,
        name: `${node.name || outs[0]}#${tag}`,
        input: inputsOfNode,
        output: renamed,
      });
      outs.forEach((o, k) => {
        if (!o) return;
        stacked.set(o, { name: renamed[k], streams });
        info.set(renamed[k], shapes.get(o)!);
      });
    }
    for (const o of outs) {
      const l = splitIndex.get(o);
      if (l === undefined) continue;
      // The stream of R_l starts here; stacking needs the streams before it to be 0…l−1.
      const before = stacked.get(o);
      if ((before?.streams ?? 0) !== l) return undefined;
      info.set(inputs[l], shapes.get(o)!);
      const name = before
        ? op("Concat", [before.name, inputs[l]], o, `stack${tag}/split`, true)
        : inputs[l];
      stacked.set(o, { name, streams: l + 1 });
    }
  }
  const logits = stacked.get(graph.outputNames[0]);
  if (!logits || logits.streams !== splits.length) return undefined;
  return {
    nodes,
    logits: logits.name,
    info: (n) => info.get(n) ?? shapes.get(n),
    allStreams: (n) => {
      const st = stacked.get(n);
      return st?.streams === splits.length ? st.name : undefined;
    },
  };
}

class NotStackable extends Error {}

/**
 * A Reshape keeps rows independent if its target shape keeps (0) or infers (−1) the batch, or
 * is computed at run time from stacked tensors (e.g. `x.view(x.size(0), -1)`).
 */
function batchPreservingReshape(
  graph: Graph,
  shapeInput: string | undefined,
  stacked: ReadonlyMap<string, unknown>,
): boolean {
  if (!shapeInput) return false;
  const value = graph.constantValue(shapeInput);
  if (!value) return stacked.has(shapeInput);
  return value[0] === -1 || value[0] === 0;
}
