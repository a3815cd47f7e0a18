/**
 * Split policies: which tensors of a classifier S&I and GAIA-Z look at.
 * @module
 */
import type { Graph } from "../onnx/graph.ts";
import type { ShapeMap } from "../runtime/shapes.ts";
import { penultimate } from "./baselines.ts";
import type { SplitPolicy } from "../contract/scoring.ts";

const NORMALIZATION_OPS = new Set([
  "BatchNormalization",
  "InstanceNormalization",
  "GroupNormalization",
  "LayerNormalization",
]);

/** Outputs of normalization nodes, in topological order. */
function normalizationOutputs(graph: Graph): string[] {
  return graph.nodes.filter((n) => NORMALIZATION_OPS.has(n.opType!)).map((n) => n.output![0]);
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
function pooledFeatures(graph: Graph, shapes: ShapeMap): string | undefined {
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const n = graph.nodes[k];
    if (!POOLS.has(n.opType!)) continue;
    const dims = shapes.get(n.output![0])?.dims;
    if (dims && dims.length >= 2 && dims.slice(2).every((d) => d === 1)) return n.output![0];
  }
  try {
    return penultimate(graph);
  } catch {
    return undefined;
  }
}

/**
 * Resolves a split policy to tensor names (topological order).
 *
 * `normalization` follows the authors (outputs of the normalization layers); when an exporter
 * folded every BatchNormalization into its Conv, the Conv outputs are the normalization outputs
 * (docs/method.md, "Decisions where the paper is silent"), so the policy falls back to them.
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
    names = normalizationOutputs(graph);
    if (names.length === 0) {
      names = graph.nodes.filter((n) => n.opType === "Conv").map((n) => n.output![0]);
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
      throw new Error(`Cannot use split tensor "${n}": it must be a float tensor [N, C, …]`);
    }
  }
  return names;
}
