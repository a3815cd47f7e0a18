/**
 * Gradient rules of activation functions.
 * @module
 */
import type { GradRule } from "../types.ts";

/** Relu: `Where(x > 0, dy, 0)` — no gradient where x ≤ 0, as PyTorch (S&I counts exact zeros). */
export const relu: GradRule = (ctx) => {
  const { b } = ctx;
  const zero = b.scalar(0);
  return [b.op("Where", [b.op("Greater", [ctx.I(0), zero]), ctx.GO(0)!, zero])];
};
