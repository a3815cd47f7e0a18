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
  return sumToInput(ctx, g, ctx.outInfo(0).dims, i);
}

/**
 * Sums `g` (static dims `gDims`, -1 for the batch) down to input `i`'s shape: over leading axes
 * input `i` lacks and over axes where it has size 1 and `g` does not.
 */
export function sumToInput(
  ctx: GradContext,
  g: string,
  gDims: readonly number[],
  i: number,
): string {
  const inDims = ctx.inInfo(i).dims;
  const lead = gDims.length - inDims.length;
  const axes: number[] = [];
  for (let a = 0; a < gDims.length; a++) {
    if (a < lead) axes.push(a);
    else if (inDims[a - lead] === 1 && gDims[a] !== 1) axes.push(a);
  }
  if (axes.length === 0) return g;
  const summed = ctx.b.reduce("ReduceSum", g, axes, true);
  if (lead === 0) return summed;
  return ctx.b.op("Reshape", [summed, ctx.b.op("Shape", [ctx.I(i)])]);
}
