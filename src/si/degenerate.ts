/**
 * Static checks of whether a method can say anything on a model, for import-time warnings.
 * @module
 */
import type { Graph } from "../onnx/graph.ts";
import { normalizationOutputs } from "./splits.ts";

/**
 * Ops whose gradient is exactly zero on a whole region of inputs (gates, clamps, pooling that
 * picks one element). S&I-Z and GAIA-Z count exact zeros of gradients; without any of these
 * after the splits (SiLU/GELU/Sigmoid networks), no gradient entry is ever exactly zero.
 */
const ZEROING_OPS = new Set([
  "Relu",
  "Clip",
  "MaxPool",
  "HardSigmoid",
  "HardSwish",
  "ReduceMax",
  "ReduceMin",
]);
// Not Where, Max, Min, Floor…: exporters use them on shape tensors (Swin has 100 Where nodes, all
// in its padding arithmetic), so their presence says nothing about the float path.

/**
 * A warning when `si` and `gaia_z` are degenerate on a model: no op after the first split can
 * zero a gradient entry, so every mask is all ones and every score is −1.
 */
export function zeroMaskWarning(graph: Graph, splits?: readonly string[]): string | undefined {
  const roots = splits ?? normalizationOutputs(graph).slice(0, 1);
  if (roots.length === 0) return undefined;
  const zeroing = graph.nodesDownstreamOf(roots).some((n) => ZEROING_OPS.has(n.opType!));
  if (zeroing) return undefined;
  return `"si" and "gaia_z" are degenerate on this model: no op after the splits can make a ` +
    `gradient entry exactly zero (smooth activations such as SiLU, GELU or Sigmoid), so every ` +
    `mask is all ones and every score is −1; use "si_a" (gradient values) instead`;
}

/**
 * A note naming the tensors the normalization policies use when the exporter folded every
 * normalization into its convolution (docs/method.md, "Folded normalization").
 */
export function foldedNormalizationNote(graph: Graph, aCount: number): string | undefined {
  if (normalizationOutputs(graph).length > 0) return undefined;
  const convs = graph.nodes.filter((n) => n.opType === "Conv").map((n) => n.output![0]);
  if (convs.length === 0) return undefined;
  const last = convs.slice(-aCount);
  return `No normalization node in the graph (BatchNormalization folded into the convolutions?): ` +
    `the "normalization" splits are the outputs of all ${convs.length} Conv nodes ` +
    `("${convs[0]}" … "${convs[convs.length - 1]}"), "last-normalization" the last ` +
    `${last.length}: ${last.map((c) => `"${c}"`).join(", ")}. To choose others, list them as ` +
    `"splits": {"policy": "tensors", "names": [...]} in the manifest`;
}
