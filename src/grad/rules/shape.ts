/**
 * Gradient rules of ops that only rearrange, cut, pad or replicate data.
 * @module
 */
import { attrInt, attrInts } from "../../onnx/tensor.ts";
import type { GradRule } from "../types.ts";
import { unbroadcast } from "./broadcast.ts";
import { SLICE_END, sliceConst } from "./slicing.ts";

/**
 * Reshape/Flatten/Squeeze/Unsqueeze: reshape back to the input's runtime shape (dynamic batch
 * keeps working).
 */
export const reshapeBack: GradRule = (ctx) => {
  const out: (string | null)[] = Array.from({ length: ctx.inputCount }, () => null);
  out[0] = ctx.b.op("Reshape", [ctx.GO(0)!, ctx.b.op("Shape", [ctx.I(0)])], {}, "reshape_grad");
  return out;
};

/** Transpose: the inverse permutation (default perm reverses the axes, its own inverse). */
export const transpose: GradRule = (ctx) => {
  const rank = ctx.inInfo(0).dims.length;
  const perm = attrInts(ctx.node, "perm", Array.from({ length: rank }, (_, k) => rank - 1 - k));
  const inverse: number[] = [];
  perm.forEach((p, k) => (inverse[p] = k));
  return [ctx.b.op("Transpose", [ctx.GO(0)!], { perm: inverse })];
};

/** Expand: sum the gradient over the replicated axes. */
export const expand: GradRule = (ctx) => [unbroadcast(ctx, ctx.GO(0)!, 0), null];

/**
 * Concat: each input receives its slab of dy along the axis — a Slice at static offsets, or a
 * Split by the runtime sizes when a size is dynamic (Split takes sizes as an input from opset 13).
 */
export const concat: GradRule = (ctx) => {
  const rank = ctx.outInfo(0).dims.length;
  let axis = attrInt(ctx.node, "axis", 0);
  if (axis < 0) axis += rank;
  const dy = ctx.GO(0)!;
  const out: (string | null)[] = [];
  if (
    Array.from({ length: ctx.inputCount }, (_, i) => ctx.inInfo(i).dims[axis]).some((d) => d < 0)
  ) {
    // Dynamic sizes (e.g. concatenation along the batch axis): split by the runtime sizes.
    // With several seeds the gradient is laid out seed-major over the *output* batch, which a
    // split by input sizes would mix up.
    if (ctx.b.opset < 13) ctx.fail("a dynamic-size concatenation needs opset 13 or later");
    if (axis === 0 && ctx.seedCount > 1) {
      ctx.fail("a batch-axis concatenation cannot be differentiated with several seeds at once");
    }
    const { b } = ctx;
    const sizes = Array.from(
      { length: ctx.inputCount },
      (_, i) => b.op("Gather", [b.op("Shape", [ctx.I(i)]), b.int64([axis])], { axis: 0 }),
    );
    const parts = b.nodeN(
      "Split",
      [dy, b.op("Concat", sizes, { axis: 0 })],
      { axis },
      ctx.inputCount,
    );
    return parts.map((p, i) => (ctx.needs(i) ? p : null));
  }
  let offset = 0;
  for (let i = 0; i < ctx.inputCount; i++) {
    const size = ctx.inInfo(i).dims[axis];
    out.push(ctx.needs(i) ? sliceConst(ctx.b, dy, [offset], [offset + size], [axis]) : null);
    offset += size;
  }
  return out;
};

/** Split: concatenate the outputs' gradients, zeros where an output has none. */
export const split: GradRule = (ctx) => {
  const { b, node } = ctx;
  const rank = ctx.inInfo(0).dims.length;
  let axis = attrInt(node, "axis", 0);
  if (axis < 0) axis += rank;
  const parts = (node.output ?? []).map((o, k) => {
    const g = o ? ctx.GO(k) : null;
    return g ?? b.op("ConstantOfShape", [b.op("Shape", [ctx.O(k)])], {}, "split_zero");
  });
  const out: (string | null)[] = Array.from({ length: ctx.inputCount }, () => null);
  out[0] = parts.length === 1 ? parts[0] : b.op("Concat", parts, { axis }, "split_grad");
  return out;
};

/** Pad (constant mode, pads ≥ 0): dy cut back to the input's extent. */
export const pad: GradRule = (ctx) => {
  const { b, node } = ctx;
  const mode = node.attribute?.find((a) => a.name === "mode")?.s;
  if (mode && new TextDecoder().decode(mode) !== "constant") {
    ctx.fail("only constant-mode Pad is supported");
  }
  const rank = ctx.inInfo(0).dims.length;
  let pads: number[];
  let axes = Array.from({ length: rank }, (_, k) => k);
  if (b.opset < 11) pads = attrInts(node, "pads", []);
  else {
    const p = ctx.constant(1);
    if (!p) return ctx.fail("pads must be constant");
    pads = Array.from(p, Number);
    const a = ctx.inputCount > 3 && node.input![3] ? ctx.constant(3) : undefined;
    if (a) axes = Array.from(a, (v) => (Number(v) < 0 ? Number(v) + rank : Number(v)));
  }
  const n = axes.length;
  if (pads.some((p) => p < 0)) ctx.fail("negative pads are not supported");
  const starts: number[] = [], ends: number[] = [], sliced: number[] = [];
  axes.forEach((axis, k) => {
    const begin = pads[k], end = pads[k + n];
    if (begin === 0 && end === 0) return;
    sliced.push(axis);
    starts.push(begin);
    // A negative end counts from the back, so a dynamic size along the axis still works.
    ends.push(end > 0 ? -end : SLICE_END);
  });
  const out: (string | null)[] = Array.from({ length: ctx.inputCount }, () => null);
  out[0] = sliced.length ? sliceConst(b, ctx.GO(0)!, starts, ends, sliced) : ctx.GO(0);
  return out;
};
