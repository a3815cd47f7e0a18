/**
 * Output-based baselines, emitted as graph fragments: MSP, MaxLogit, Energy, GradNorm.
 * All follow the project convention: higher = more in-distribution.
 * @module
 */
import type { GraphBuilder } from "../onnx/builder.ts";
import type { Graph } from "../onnx/graph.ts";
import type { ShapeMap } from "../onnx/shapes.ts";
import type { Head } from "./heads.ts";
import type { ForwardMethod } from "../contract/methods.ts";

/**
 * The penultimate features GradNorm needs: the data input of the last Gemm/MatMul that
 * produces the logits (possibly followed by a bias Add).
 */
export function penultimate(graph: Graph): string {
  let node = graph.producer.get(graph.outputNames[0]);
  if (node?.opType === "Add") {
    node = (node.input ?? []).map((i) => graph.producer.get(i)).find((p) => p?.opType === "MatMul");
  }
  if (!node || (node.opType !== "Gemm" && node.opType !== "MatMul")) {
    throw new Error(
      `Cannot compute "gradnorm": the logits do not come from a final Gemm/MatMul layer`,
    );
  }
  return node.input![0];
}

/** Energy score = logsumexp of the logits (T = 1), i.e. minus the free energy. */
export function emitEnergy(b: GraphBuilder, logits: string): string {
  return b.reduce("ReduceLogSumExp", logits, [1], false);
}

/** Emits the score [N] of an output-based method. */
export function emitBaseline(
  b: GraphBuilder,
  graph: Graph,
  shapes: ShapeMap,
  method: ForwardMethod,
  h: Head,
): string {
  const logits = graph.outputNames[0];
  switch (method) {
    case "msp":
      return b.reduce("ReduceMax", h.probs, [1], false);
    case "maxlogit":
      return b.reduce("ReduceMax", logits, [1], false);
    case "energy":
      return emitEnergy(b, logits);
    case "gradnorm": {
      // GradNorm (Huang et al. 2021): L1 norm of ∂KL(u‖softmax)/∂W of the last layer. That
      // gradient is the outer product (softmax − 1/K)·hᵀ, whose L1 norm factorizes.
      const k = shapes.get(logits)!.dims[1];
      const feats = penultimate(graph);
      const rank = shapes.get(feats)!.dims.length;
      const dev = b.op("Abs", [b.op("Sub", [h.probs, b.scalar(1 / k)])]);
      const featAxes = Array.from({ length: rank - 1 }, (_, i) => i + 1);
      return b.op(
        "Mul",
        [
          b.reduce("ReduceSum", dev, [1], false),
          b.reduce("ReduceSum", b.op("Abs", [feats]), featAxes, false),
        ],
        {},
        "gradnorm",
      );
    }
  }
}
