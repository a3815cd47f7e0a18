/**
 * The per-split fallback of the iterative scoring graphs (S&I-Z and S&I-A): where the remainder
 * passes of iteration t ≥ 1 cannot be stacked (the topology does not allow it, or the model has a
 * fixed batch size), the network downstream of each split is cloned once per split and fed from
 * that split's iterate zᵗ_l. The variants differ only in what they differentiate in each clone.
 * @module
 */
import { cloneRemainder } from "../grad/remainder.ts";
import type { GraphBuilder } from "../onnx/builder.ts";
import type { Graph } from "../onnx/graph.ts";
import type { NodeProto } from "../onnx/proto.ts";
import type { ShapeMap, TensorInfo } from "../onnx/shapes.ts";
import { type Head, head } from "./heads.ts";

/** A forward (sub)graph to differentiate. */
export interface Forward {
  readonly nodes: readonly NodeProto[];
  readonly info: (name: string) => TensorInfo | undefined;
  readonly constant: Graph["constantValue"];
}

/** Gradients of one iteration t ≥ 1 at every split: g and, when asked, the step direction d. */
export interface StepGrads {
  readonly g: string[];
  readonly d?: string[];
}

/** One split's cloned remainder, emitted into the builder. */
export interface SplitClone {
  /** Index of the split. */
  readonly l: number;
  /** zᵗ_l, the tensor the clone reads in place of the split. */
  readonly z: string;
  /** The cloned nodes, with shapes and constants looked up under their original names. */
  readonly fwd: Forward;
  /** The clone's logits. */
  readonly y: string;
  /** Class, one-hot and probabilities of the clone's logits. */
  readonly head: Head;
  /** The clone's name for a tensor of the model. */
  readonly rename: (original: string) => string;
}

/** The iterates zᵗ of one iteration t ≥ 1, and where to emit its remainder passes. */
export interface SplitIterates {
  readonly b: GraphBuilder;
  readonly graph: Graph;
  readonly shapes: ShapeMap;
  /** The split tensors of the model. */
  readonly splits: readonly string[];
  /** zᵗ per split. */
  readonly z: readonly string[];
  /** Number of classes. */
  readonly k: number;
}

/** What {@link emitPerSplitStep} clones. */
export interface PerSplitStep extends SplitIterates {
  /** Suffix of split l's cloned tensors (unique per split and iteration). */
  readonly suffix: (l: number) => string;
}

/**
 * Emits one cloned remainder per split and collects, from `grads`, g (and d, when it returns one)
 * at each split's zᵗ_l.
 */
export function emitPerSplitStep(
  step: PerSplitStep,
  grads: (clone: SplitClone) => { readonly g: string; readonly d?: string },
): StepGrads {
  const { b, graph, shapes, z, k } = step;
  const g: string[] = [], d: string[] = [];
  step.splits.forEach((split, l) => {
    const rem = cloneRemainder(graph, split, z[l], step.suffix(l));
    b.reserve(rem.nodes.flatMap((n) => n.output ?? []));
    for (const n of rem.nodes) b.nodes.push(n);
    const y = rem.rename(graph.outputNames[0]);
    const fwd: Forward = {
      nodes: rem.nodes,
      info: (n) => shapes.get(rem.original(n)),
      constant: (n) => graph.constantValue(n),
    };
    const r = grads({ l, z: z[l], fwd, y, head: head(b, y, k), rename: (n) => rem.rename(n) });
    g[l] = r.g;
    if (r.d !== undefined) d[l] = r.d;
  });
  return d.length > 0 ? { g, d } : { g };
}
