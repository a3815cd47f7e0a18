/**
 * Gradient rules of pooling and reductions.
 * @module
 */
import type { GradRule } from "../types.ts";

/** GlobalAveragePool: `dy / (H·W)` expanded back over the spatial axes. */
export const globalAveragePool: GradRule = (ctx) => {
  const spatial = ctx.inInfo(0).dims.slice(2);
  if (spatial.some((d) => d < 0)) ctx.fail("needs static spatial sizes");
  const count = spatial.reduce((a, b) => a * b, 1);
  const { b } = ctx;
  const scaled = b.op("Mul", [ctx.GO(0)!, b.scalar(1 / count)]);
  return [b.op("Expand", [scaled, b.op("Shape", [ctx.I(0)])], {}, "gap_grad")];
};
