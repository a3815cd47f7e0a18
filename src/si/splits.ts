/**
 * Split policies: which tensors of a classifier S&I and GAIA-Z look at.
 * @module
 */
import type { Graph } from "../onnx/graph.ts";
import type { NodeProto } from "../onnx/proto.ts";
import type { ShapeMap } from "../onnx/shapes.ts";
import { penultimate } from "./baselines.ts";
import { LAST_NORMALIZATION_COUNT, type SplitPolicy } from "../contract/scoring.ts";

const NORMALIZATION_OPS = new Set([
  "BatchNormalization",
  "InstanceNormalization",
  "GroupNormalization",
  "LayerNormalization",
]);

/**
 * Outputs of normalization layers, in topological order. A GroupNorm exported as
 * Reshape → InstanceNormalization → Reshape → Mul → Add (PyTorch's opset < 18 export) counts as
 * ONE normalization whose output is the final Add — the layer's output in the model's own
 * terms, shaped [N, C, …] (the InstanceNormalization output is the grouped view [N, G, …]).
 */
export function normalizationOutputs(graph: Graph): string[] {
  return graph.nodes.filter((n) => NORMALIZATION_OPS.has(n.opType!)).map((n) =>
    normalizationOutput(graph, n)
  );
}

/**
 * The output of a normalization node's layer: its own output, or for an InstanceNormalization
 * inside the exported GroupNorm pattern, the pattern's final Add (see {@link normalizationOutputs}).
 */
export function normalizationOutput(graph: Graph, node: NodeProto): string {
  return node.opType === "InstanceNormalization" ? groupNormOutput(graph, node) : node.output![0];
}

/** The end of the exported GroupNorm pattern around an InstanceNormalization node. */
function groupNormOutput(graph: Graph, node: NodeProto): string {
  const out = node.output![0];
  const before = graph.producer.get(node.input![0]);
  const after = soleConsumer(graph, out);
  if (before?.opType !== "Reshape" || after?.opType !== "Reshape") return out;
  let end = after.output![0];
  // The affine part: a Mul by a constant, then an Add of a constant (each optional).
  for (const op of ["Mul", "Add"]) {
    const next = soleConsumer(graph, end);
    const other = next?.input?.find((i) => i !== end);
    if (next?.opType !== op || !other || !graph.isConstant(other)) continue;
    end = next.output![0];
  }
  return end;
}

function soleConsumer(graph: Graph, name: string): NodeProto | undefined {
  const users = graph.consumers.get(name) ?? [];
  return users.length === 1 && !graph.outputNames.includes(name) ? users[0] : undefined;
}

const POOLS = new Set([
  "GlobalAveragePool",
  "GlobalMaxPool",
  "AveragePool",
  "MaxPool",
  "ReduceMean",
]);

/**
 * The globally pooled features: the output, closest to the logits, of a pooling node that
 * leaves no spatial extent (GlobalAveragePool, an AveragePool/MaxPool whose window covers the
 * whole map, or a ReduceMean over the spatial axes). A model without one (e.g. a small CNN that
 * flattens a 2×2 map) uses the features its final linear layer reads, the same role.
 */
export function pooledFeatures(graph: Graph, shapes: ShapeMap): string | undefined {
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const n = graph.nodes[k];
    if (!POOLS.has(n.opType!)) continue;
    const dims = shapes.get(n.output![0])?.dims;
    // Computed per image: a ReduceMean of a weight-standardized kernel is a compile-time constant.
    const perImage = !graph.isConstant(n.output![0]);
    if (dims && dims.length >= 2 && perImage && dims.slice(2).every((d) => d === 1)) {
      return n.output![0];
    }
  }
  try {
    return penultimate(graph);
  } catch {
    return undefined;
  }
}

/**
 * Drops normalizations computed from the globally pooled features: a head LayerNorm after the
 * pool (ConvNeXt, MaxViT) normalizes `h` itself, a vector with no positions, so it is not a
 * split; the pooled features stay the pool's output (docs/method.md, "Split policies").
 */
function beforePool(graph: Graph, shapes: ShapeMap, names: string[]): string[] {
  const pooled = pooledFeatures(graph, shapes);
  if (!pooled) return names;
  const after = graph.downstreamOf([pooled]);
  return names.filter((n) => !after.has(n));
}

/**
 * Resolves a split policy to tensor names (topological order).
 *
 * `normalization` follows the authors (outputs of the normalization layers); when an exporter
 * folded every BatchNormalization into its Conv, the Conv outputs are the normalization outputs
 * (docs/method.md, "Decisions where the paper is silent"), so the policy falls back to them.
 * `last-normalization` keeps the last `count` of those (the A variant's splits: on BiT the nine
 * block-4 GroupNorms and the one before the head).
 */
export function resolveSplits(graph: Graph, shapes: ShapeMap, policy: SplitPolicy): string[] {
  let names: string[];
  if (policy.kind === "tensors") {
    const order = new Map<string, number>();
    graph.nodes.forEach((n, i) => (n.output ?? []).forEach((o) => order.set(o, i)));
    for (const name of policy.names) {
      if (!order.has(name)) {
        throw new Error(
          `Cannot use split tensor "${name}": the model has no node output of that name`,
        );
      }
    }
    names = [...new Set(policy.names)].sort((a, b) => order.get(a)! - order.get(b)!);
  } else {
    names = beforePool(graph, shapes, normalizationOutputs(graph));
    if (names.length === 0) {
      names = graph.nodes.filter((n) => n.opType === "Conv").map((n) => n.output![0]);
    }
    if (policy.kind === "last-normalization") {
      if (!Number.isInteger(policy.count) || policy.count < 1) {
        throw new RangeError(
          `Split policy "last-normalization" needs a positive integer count, got ${policy.count}`,
        );
      }
      names = names.slice(-policy.count);
    }
    if (policy.kind === "normalization+pool") {
      const pooled = pooledFeatures(graph, shapes);
      if (!pooled) {
        throw new Error(
          `Cannot use split policy "normalization+pool": no globally pooled features found`,
        );
      }
      if (!names.includes(pooled)) names.push(pooled);
    }
  }
  if (names.length === 0) throw new Error(`Split policy "${policy.kind}" selects no tensors`);
  for (const n of names) {
    const info = shapes.get(n);
    if (!info || info.type !== "float32" || info.dims.length < 2) {
      throw new Error(
        `Cannot use split tensor "${n}": it must be a float tensor with a batch and a channel ` +
          `axis ([N, C, …], [N, H, W, C] or [N, T, C])`,
      );
    }
  }
  return names;
}

/**
 * The pooled pre-head features `h` of the A variant: the tensor named in the manifest, else the
 * globally pooled features feeding the classifier head ({@link pooledFeatures}). It must be
 * computed per image from the last split and feed the logits.
 */
export function resolvePooled(
  graph: Graph,
  shapes: ShapeMap,
  splits: readonly string[],
  method: string,
  named?: string,
): string {
  const pooled = named ?? pooledFeatures(graph, shapes);
  if (!pooled) {
    throw new Error(
      `Cannot compute "${method}": no pooled pre-head features found (a GlobalAveragePool or ` +
        `spatial ReduceMean feeding the classifier head); name the tensor in the manifest as ` +
        `"splits": {"pooled": "<tensor>"}`,
    );
  }
  const where = named ? `the manifest's splits.pooled "${pooled}"` : `pooled features "${pooled}"`;
  if (!graph.producer.has(pooled)) {
    throw new Error(`Cannot compute "${method}": ${where} is no node output of the model`);
  }
  const info = shapes.get(pooled);
  if (!info || info.type !== "float32" || info.dims.length < 2 || graph.isConstant(pooled)) {
    throw new Error(`Cannot compute "${method}": ${where} must be a float tensor [N, C, …]`);
  }
  const last = splits[splits.length - 1];
  if (last && !graph.downstreamOf([last]).has(pooled)) {
    throw new Error(
      `Cannot compute "${method}": ${where} is not computed from the last split "${last}"`,
    );
  }
  if (!graph.downstreamOf([pooled]).has(graph.outputNames[0])) {
    throw new Error(`Cannot compute "${method}": the logits do not depend on ${where}`);
  }
  return pooled;
}

/**
 * The splits of the A variant, defined over the last normalization outputs: the model's policy
 * when it is `last-normalization` or `tensors`, else the last 10. `si_a` uses z_1 … z_L (z_L for
 * the output component); `gaia_a` all but the last (its output component is taken at h).
 */
export function aVariantSplits(
  graph: Graph,
  shapes: ShapeMap,
  policy: SplitPolicy,
  method: "si_a" | "gaia_a",
): string[] {
  const own = policy.kind === "last-normalization" || policy.kind === "tensors";
  const names = resolveSplits(
    graph,
    shapes,
    own ? policy : { kind: "last-normalization", count: LAST_NORMALIZATION_COUNT },
  );
  if (names.length < 2) {
    throw new Error(
      `Method "${method}" needs at least 2 split tensors, the split policy gives ${names.length}`,
    );
  }
  return method === "gaia_a" ? names.slice(0, -1) : names;
}
