/**
 * Gradient rules of Softmax and LogSoftmax. Before opset 13 both flatten the input to 2-D at
 * `axis` (default 1), i.e. normalize over every axis from `axis` on; from opset 13 they
 * normalize over the single axis `axis` (default −1).
 * @module
 */
import { attrInt } from "../../onnx/tensor.ts";
import type { GradContext, GradRule } from "../types.ts";

/** The axes a Softmax/LogSoftmax node normalizes over, in the node's opset semantics. */
function softmaxAxes(ctx: GradContext): number[] {
  const rank = ctx.inInfo(0).dims.length;
  const legacy = ctx.b.opset < 13;
  let axis = attrInt(ctx.node, "axis", legacy ? 1 : -1);
  if (axis < 0) axis += rank;
  if (!legacy) return [axis];
  return Array.from({ length: rank - axis }, (_, k) => axis + k);
}

/** Softmax: dx = y ⊙ (dy − Σ_axes dy ⊙ y). */
export const softmax: GradRule = (ctx) => {
  const { b } = ctx;
  const y = ctx.O(0), dy = ctx.GO(0)!;
  const dot = b.reduce("ReduceSum", b.op("Mul", [dy, y]), softmaxAxes(ctx), true);
  return [b.op("Mul", [y, b.op("Sub", [dy, dot])])];
};

/** LogSoftmax: dx = dy − exp(y) ⊙ Σ_axes dy. */
export const logSoftmax: GradRule = (ctx) => {
  const { b } = ctx;
  const y = ctx.O(0), dy = ctx.GO(0)!;
  const total = b.reduce("ReduceSum", dy, softmaxAxes(ctx), true);
  return [b.op("Sub", [dy, b.op("Mul", [b.op("Exp", [y]), total])])];
};
