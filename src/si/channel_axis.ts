/**
 * The channel axis of a split tensor, read from the graph: S&I's per-channel fractions and
 * S&I-A's per-channel gradient means average over every other non-batch axis (the positions).
 *
 * - Conv, BatchNormalization, InstanceNormalization, GroupNormalization (and anything else the
 *   graph does not say otherwise about): `[N, C, …]`, axis 1.
 * - LayerNormalization over the last axis, MatMul, Gemm and Einsum outputs: the last axis —
 *   ConvNeXt's and Swin's LayerNorm outputs are `[N, H, W, C]`, ViT's `[N, T, C]` (tokens are
 *   positions, like pixels). A LayerNormalization over several trailing axes (`axis` < rank − 1,
 *   e.g. over [C, H, W]) keeps axis 1.
 * - Transpose moves its input's channel axis; elementwise ops (activations, residual Adds, the
 *   affine Mul/Add of an exported GroupNorm) and Dropout/Identity keep it.
 * @module
 */
import type { Graph } from "../onnx/graph.ts";
import type { NodeProto } from "../onnx/proto.ts";
import type { ShapeMap } from "../onnx/shapes.ts";
import { attrInt, attrInts } from "../onnx/tensor.ts";
import type { Layout } from "./heads.ts";

const LAST_AXIS_OPS = new Set(["MatMul", "Gemm", "Einsum"]);
const CHANNEL_ONE_OPS = new Set([
  "Conv",
  "ConvTranspose",
  "BatchNormalization",
  "InstanceNormalization",
  "GroupNormalization",
]);
const SAME_LAYOUT_OPS = new Set([
  "Add",
  "Sub",
  "Mul",
  "Div",
  "Relu",
  "LeakyRelu",
  "Clip",
  "Sigmoid",
  "HardSigmoid",
  "HardSwish",
  "Tanh",
  "Erf",
  "Identity",
  "Dropout",
  "Neg",
]);

/** The channel axis of `tensor` (rank ≥ 2), per the rules of this module. */
export function channelAxis(graph: Graph, shapes: ShapeMap, tensor: string): number {
  let name = tensor;
  const transposes: number[][] = [];
  let axis = 1;
  for (let hops = 0; hops < 32; hops++) {
    const rank = shapes.get(name)?.dims.length ?? 0;
    const node = graph.producer.get(name);
    if (rank <= 2 || !node) break;
    const own = ownAxis(node, rank);
    if (own !== undefined) {
      axis = own;
      break;
    }
    if (node.opType === "Transpose") transposes.push(attrInts(node, "perm", []));
    else if (!SAME_LAYOUT_OPS.has(node.opType!)) break;
    const next = sameRankInput(graph, shapes, node, rank);
    if (!next) break;
    name = next;
  }
  // Map the axis found upstream through the transposes met on the way, nearest last.
  for (let k = transposes.length - 1; k >= 0; k--) {
    const perm = transposes[k];
    const moved = perm.indexOf(axis);
    if (moved >= 0) axis = moved;
  }
  return axis;
}

function ownAxis(node: NodeProto, rank: number): number | undefined {
  if (CHANNEL_ONE_OPS.has(node.opType!)) return 1;
  if (LAST_AXIS_OPS.has(node.opType!)) return rank - 1;
  if (node.opType === "LayerNormalization") {
    const a = attrInt(node, "axis", -1);
    return a === -1 || a === rank - 1 ? rank - 1 : 1;
  }
  return undefined;
}

/** The input of `node` that is computed per image and has the output's rank. */
function sameRankInput(
  graph: Graph,
  shapes: ShapeMap,
  node: NodeProto,
  rank: number,
): string | undefined {
  return (node.input ?? []).find((i) =>
    i && !graph.isConstant(i) && shapes.get(i)?.dims.length === rank
  );
}

/** Rank and channel axis of a tensor. */
export function layoutOf(graph: Graph, shapes: ShapeMap, tensor: string): Layout {
  return { rank: shapes.get(tensor)!.dims.length, channelAxis: channelAxis(graph, shapes, tensor) };
}
