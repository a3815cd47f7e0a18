/**
 * Gradient rules of elementwise math functions and variadic sums.
 * @module
 */
import type { GradRule } from "../types.ts";
import { unbroadcast } from "./broadcast.ts";

/** Sqrt: dy·0.5/y, from the forward output. */
export const sqrt: GradRule = (ctx) => {
  const { b } = ctx;
  return [b.op("Div", [b.op("Mul", [ctx.GO(0)!, b.scalar(0.5)]), ctx.O(0)])];
};

/** Exp: dy·y. */
export const exp: GradRule = (ctx) => [ctx.b.op("Mul", [ctx.GO(0)!, ctx.O(0)])];

/** Log: dy/x. */
export const log: GradRule = (ctx) => [ctx.b.op("Div", [ctx.GO(0)!, ctx.I(0)])];

/** Pow with a constant exponent p: dy·p·x^(p−1) (dy·2x for the common square). */
export const pow: GradRule = (ctx) => {
  const { b } = ctx;
  if (ctx.needs(1)) ctx.fail("gradients with respect to the exponent are not supported");
  const p = ctx.constant(1);
  if (!p || p.length !== 1) return ctx.fail("the exponent must be a constant scalar");
  const e = Number(p[0]);
  const x = ctx.I(0), dy = ctx.GO(0)!;
  let slope: string;
  if (e === 2) slope = b.op("Mul", [x, b.scalar(2)]);
  else if (e === 1) slope = b.scalar(1);
  else slope = b.op("Mul", [b.op("Pow", [x, b.scalar(e - 1)]), b.scalar(e)]);
  return [unbroadcast(ctx, b.op("Mul", [dy, slope]), 0), null];
};

/** Sum (variadic, broadcasting): every operand receives dy, un-broadcast. */
export const sum: GradRule = (ctx) => {
  const dy = ctx.GO(0)!;
  return Array.from(
    { length: ctx.inputCount },
    (_, i) => (ctx.needs(i) ? unbroadcast(ctx, dy, i) : null),
  );
};

/** Mean (variadic, broadcasting): every operand receives dy/n, un-broadcast. */
export const mean: GradRule = (ctx) => {
  const scaled = ctx.b.op("Mul", [ctx.GO(0)!, ctx.b.scalar(1 / ctx.inputCount)]);
  return Array.from(
    { length: ctx.inputCount },
    (_, i) => (ctx.needs(i) ? unbroadcast(ctx, scaled, i) : null),
  );
};

/** Erf (GELU's exact form): dy·(2/√π)·exp(−x²). */
export const erf: GradRule = (ctx) => {
  const { b } = ctx;
  const x = ctx.I(0);
  const gauss = b.op("Exp", [b.op("Neg", [b.op("Mul", [x, x])])]);
  return [b.op("Mul", [ctx.GO(0)!, b.op("Mul", [gauss, b.scalar(2 / Math.sqrt(Math.PI))])])];
};
