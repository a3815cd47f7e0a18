/**
 * Undoing numpy-style broadcasting in gradients.
 * @module
 */
import type { GradContext } from "../types.ts";

/**
 * Sums `g` (shaped like output 0) over the axes along which input `i` was broadcast and
 * reshapes it to input `i`'s shape.
 */
export function unbroadcast(ctx: GradContext, g: string, i: number): string {
  const inDims = ctx.inInfo(i).dims;
  const outDims = ctx.outInfo(0).dims;
  const lead = outDims.length - inDims.length;
  const axes: number[] = [];
  for (let a = 0; a < outDims.length; a++) {
    if (a < lead) axes.push(a);
    else if (inDims[a - lead] === 1 && outDims[a] !== 1) axes.push(a);
  }
  if (axes.length === 0) return g;
  const summed = ctx.b.reduce("ReduceSum", g, axes, true);
  if (lead === 0) return summed;
  return ctx.b.op("Reshape", [summed, ctx.b.op("Shape", [ctx.I(i)])]);
}
