/**
 * Gradient rules of ReduceSum and ReduceMean: dy is broadcast back over the reduced axes.
 * @module
 */
import { attrInt, attrInts } from "../../onnx/tensor.ts";
import type { GradContext, GradRule } from "../types.ts";

/** The reduced axes (sorted, non-negative), whether they are attributes or an input. */
function reducedAxes(ctx: GradContext, axesAsInput: boolean): number[] {
  const rank = ctx.inInfo(0).dims.length;
  let axes: number[];
  if (axesAsInput) {
    const given = ctx.inputCount > 1 && ctx.node.input![1];
    const v = given ? ctx.constant(1) : [];
    if (!v) return ctx.fail("axes must be constant");
    axes = Array.from(v, Number);
  } else axes = attrInts(ctx.node, "axes", []);
  if (axes.length === 0) {
    // Empty axes: everything, unless noop_with_empty_axes makes the op an identity.
    if (attrInt(ctx.node, "noop_with_empty_axes", 0)) return [];
    return Array.from({ length: rank }, (_, k) => k);
  }
  return axes.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
}

function reduceBack(ctx: GradContext, axesFromOpset: number, mean: boolean): (string | null)[] {
  const { b } = ctx;
  const axes = reducedAxes(ctx, b.opset >= axesFromOpset);
  const out: (string | null)[] = Array.from({ length: ctx.inputCount }, () => null);
  let g = ctx.GO(0)!;
  if (axes.length === 0) {
    out[0] = g;
    return out;
  }
  if (!attrInt(ctx.node, "keepdims", 1)) g = b.unsqueeze(g, axes);
  if (mean) {
    const dims = ctx.inInfo(0).dims;
    if (axes.some((a) => dims[a] < 0)) ctx.fail("ReduceMean over the batch axis is not supported");
    g = b.op("Mul", [g, b.scalar(1 / axes.reduce((n, a) => n * dims[a], 1))]);
  }
  out[0] = b.op("Expand", [g, b.op("Shape", [ctx.I(0)])], {}, "reduce_grad");
  return out;
}

/** ReduceSum (axes become an input at opset 13). */
export const reduceSum: GradRule = (ctx) => reduceBack(ctx, 13, false);

/** ReduceMean (axes become an input at opset 18). */
export const reduceMean: GradRule = (ctx) => reduceBack(ctx, 18, true);
