/**
 * Gradient rules of activation functions. Where an activation has a kink, the convention at the
 * kink is PyTorch's (S&I counts exact zeros, so it must match the reference bit for bit).
 * @module
 */
import { attrFloat } from "../../onnx/tensor.ts";
import type { GradRule } from "../types.ts";

/**
 * Relu: `dy · 1[x > 0]` — no gradient where x ≤ 0, as PyTorch (S&I counts exact zeros). Written as
 * Mul by a cast mask rather than Where: onnxruntime's broadcasting Where took 12.8 % of the S&I
 * graph's kernel time on native (bench/profile.ts, batch 8), Cast + Mul about half of that.
 */
export const relu: GradRule = (ctx) => {
  const { b } = ctx;
  const zero = b.scalar(0);
  const open = b.op("Cast", [b.op("Greater", [ctx.I(0), zero])], { to: 1 });
  return [b.op("Mul", [ctx.GO(0)!, open], {}, "relu_grad")];
};

/** LeakyRelu: dy where x > 0, else alpha·dy (PyTorch's leaky_relu_backward). */
export const leakyRelu: GradRule = (ctx) => {
  const { b } = ctx;
  const dy = ctx.GO(0)!;
  const alpha = attrFloat(ctx.node, "alpha", 0.01);
  const pos = b.op("Greater", [ctx.I(0), b.scalar(0)]);
  return [b.op("Where", [pos, dy, b.op("Mul", [dy, b.scalar(alpha)])])];
};

/** Sigmoid: dy·y·(1 − y), from the forward output. */
export const sigmoid: GradRule = (ctx) => {
  const { b } = ctx;
  const y = ctx.O(0);
  const slope = b.op("Mul", [y, b.op("Sub", [b.scalar(1), y])]);
  return [b.op("Mul", [ctx.GO(0)!, slope])];
};

/** Tanh: dy·(1 − y²). */
export const tanh: GradRule = (ctx) => {
  const { b } = ctx;
  const y = ctx.O(0);
  return [b.op("Mul", [ctx.GO(0)!, b.op("Sub", [b.scalar(1), b.op("Mul", [y, y])])])];
};

/**
 * HardSigmoid `max(0, min(1, αx + β))`: α·dy strictly inside (0, 1), else 0 — PyTorch's
 * hardsigmoid_backward also zeroes the boundaries.
 */
export const hardSigmoid: GradRule = (ctx) => {
  const { b, node } = ctx;
  const alpha = attrFloat(node, "alpha", 0.2), beta = attrFloat(node, "beta", 0.5);
  const t = b.op("Add", [b.op("Mul", [ctx.I(0), b.scalar(alpha)]), b.scalar(beta)]);
  const inside = b.op("And", [b.op("Greater", [t, b.scalar(0)]), b.op("Less", [t, b.scalar(1)])]);
  const zero = b.scalar(0);
  return [b.op("Where", [inside, b.op("Mul", [ctx.GO(0)!, b.scalar(alpha)]), zero])];
};

/**
 * HardSwish `x·relu6(x + 3)/6`: 0 for x < −3, dy for x > 3, dy·(x/3 + 1/2) between (PyTorch's
 * hardswish_backward, whose middle branch includes both ends).
 */
export const hardSwish: GradRule = (ctx) => {
  const { b } = ctx;
  const x = ctx.I(0), dy = ctx.GO(0)!;
  const mid = b.op("Mul", [dy, b.op("Add", [b.op("Mul", [x, b.scalar(1 / 3)]), b.scalar(0.5)])]);
  const upper = b.op("Where", [b.op("Greater", [x, b.scalar(3)]), dy, mid]);
  return [b.op("Where", [b.op("Less", [x, b.scalar(-3)]), b.scalar(0), upper])];
};

/**
 * Clip (and Relu6 exported as Clip(0, 6)): dy strictly between min and max, else 0. This is
 * PyTorch's hardtanh/relu6 backward (boundaries get no gradient, like Relu at 0); torch.clamp
 * would pass the gradient at the boundaries, which only matters for inputs exactly on them.
 * min/max are attributes before opset 11 and optional inputs from it.
 */
export const clip: GradRule = (ctx) => {
  const { b, node } = ctx;
  if (ctx.needs(1) || ctx.needs(2)) ctx.fail("gradients with respect to min/max are not supported");
  const x = ctx.I(0);
  let lo: string | undefined, hi: string | undefined;
  if (b.opset < 11) {
    if (node.attribute?.some((a) => a.name === "min")) lo = b.scalar(attrFloat(node, "min", 0));
    if (node.attribute?.some((a) => a.name === "max")) hi = b.scalar(attrFloat(node, "max", 0));
  } else {
    if (ctx.inputCount > 1 && node.input![1]) lo = ctx.I(1);
    if (ctx.inputCount > 2 && node.input![2]) hi = ctx.I(2);
  }
  const conds: string[] = [];
  if (lo) conds.push(b.op("Greater", [x, lo]));
  if (hi) conds.push(b.op("Less", [x, hi]));
  const out: (string | null)[] = Array.from({ length: ctx.inputCount }, () => null);
  if (conds.length === 0) out[0] = ctx.GO(0);
  else {
    const inside = conds.length === 2 ? b.op("And", conds) : conds[0];
    out[0] = b.op("Where", [inside, ctx.GO(0)!, b.scalar(0)]);
  }
  return out;
};
