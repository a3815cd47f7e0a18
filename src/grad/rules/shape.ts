/**
 * Gradient rules of ops that only rearrange data.
 * @module
 */
import type { GradRule } from "../types.ts";

/** Reshape/Flatten: reshape back to the input's runtime shape (dynamic batch keeps working). */
export const reshapeBack: GradRule = (ctx) => {
  const out: (string | null)[] = Array.from({ length: ctx.inputCount }, () => null);
  out[0] = ctx.b.op("Reshape", [ctx.GO(0)!, ctx.b.op("Shape", [ctx.I(0)])], {}, "reshape_grad");
  return out;
};
