/**
 * Gradient rules of elementwise arithmetic (with broadcasting) and pass-through ops.
 * @module
 */
import type { GradRule } from "../types.ts";
import { unbroadcast } from "./broadcast.ts";

/** Add: both operands receive dy (un-broadcast). */
export const add: GradRule = (ctx) => {
  const dy = ctx.GO(0)!;
  return [
    ctx.needs(0) ? unbroadcast(ctx, dy, 0) : null,
    ctx.needs(1) ? unbroadcast(ctx, dy, 1) : null,
  ];
};

/** Sub: dy and −dy. */
export const sub: GradRule = (ctx) => {
  const dy = ctx.GO(0)!;
  return [
    ctx.needs(0) ? unbroadcast(ctx, dy, 0) : null,
    ctx.needs(1) ? unbroadcast(ctx, ctx.b.op("Neg", [dy]), 1) : null,
  ];
};

/** Mul: dy·b and dy·a. */
export const mul: GradRule = (ctx) => {
  const dy = ctx.GO(0)!;
  return [
    ctx.needs(0) ? unbroadcast(ctx, ctx.b.op("Mul", [dy, ctx.I(1)]), 0) : null,
    ctx.needs(1) ? unbroadcast(ctx, ctx.b.op("Mul", [dy, ctx.I(0)]), 1) : null,
  ];
};

/** Div: dy/b and −dy·(a/b)/b (reusing the forward output a/b). */
export const div: GradRule = (ctx) => {
  const dy = ctx.GO(0)!;
  const { b } = ctx;
  return [
    ctx.needs(0) ? unbroadcast(ctx, b.op("Div", [dy, ctx.I(1)]), 0) : null,
    ctx.needs(1)
      ? unbroadcast(ctx, b.op("Neg", [b.op("Div", [b.op("Mul", [dy, ctx.O(0)]), ctx.I(1)])]), 1)
      : null,
  ];
};

/** Neg: −dy. */
export const neg: GradRule = (ctx) => [ctx.b.op("Neg", [ctx.GO(0)!])];

/** Identity, inference Dropout and float→float Cast pass the gradient through. */
export const passThrough: GradRule = (ctx) => {
  const inputs: (string | null)[] = Array.from({ length: ctx.inputCount }, () => null);
  inputs[0] = ctx.GO(0);
  return inputs;
};
