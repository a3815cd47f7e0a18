/**
 * Gradient rules of Slice and Gather with compile-time-constant indices. Both scatter dy back
 * into a zero tensor shaped like the input, built from Pad/Reshape/MatMul only (no ScatterND).
 * @module
 */
import { attrInt, attrInts } from "../../onnx/tensor.ts";
import type { GradContext, GradRule } from "../types.ts";
import { axisPads, padZeros, SLICE_END, sliceConst } from "./slicing.ts";

/** One sliced axis: the first index taken, the count and the step (ONNX clamping applied). */
interface AxisSlice {
  axis: number;
  start: number;
  /** Elements taken; -1 for a whole (dynamic) axis left untouched. */
  count: number;
  step: number;
}

function sliceParams(ctx: GradContext): AxisSlice[] {
  const { node } = ctx;
  const dims = ctx.inInfo(0).dims;
  const rank = dims.length;
  const read = (i: number, attr: string): number[] | undefined => {
    if (ctx.b.opset < 10) {
      return node.attribute?.some((a) => a.name === attr) ? attrInts(node, attr, []) : undefined;
    }
    if (i >= ctx.inputCount || !node.input![i]) return undefined;
    const v = ctx.constant(i);
    if (!v) return ctx.fail(`Slice ${attr} must be constant`);
    return Array.from(v, Number);
  };
  const starts = read(1, "starts")!, ends = read(2, "ends")!;
  const axes = read(3, "axes") ?? starts.map((_, k) => k);
  const steps = read(4, "steps") ?? starts.map(() => 1);
  return axes.map((a, k) => {
    const axis = a < 0 ? a + rank : a;
    const dim = dims[axis];
    const step = steps[k];
    // A whole dynamic axis (exporters write 0 : INT64_MAX) is no slice at all.
    if (dim < 0 && step === 1 && starts[k] === 0 && ends[k] >= 2 ** 31 - 1) {
      return { axis, start: 0, count: -1, step };
    }
    if (dim < 0) ctx.fail("sliced axes must have static sizes");
    const norm = (v: number) => (v < 0 ? v + dim : v);
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    let start: number, count: number;
    if (step > 0) {
      start = clamp(norm(starts[k]), 0, dim);
      const end = clamp(norm(ends[k]), 0, dim);
      count = Math.max(0, Math.ceil((end - start) / step));
    } else {
      start = clamp(norm(starts[k]), 0, dim - 1);
      const end = clamp(norm(ends[k]), -1, dim - 1);
      count = Math.max(0, Math.ceil((start - end) / -step));
    }
    return { axis, start, count, step };
  });
}

/**
 * Slice (constant starts/ends/axes/steps): per sliced axis, a negative step is undone by
 * reversing dy; a step s > 1 by interleaving s − 1 zeros (Unsqueeze, Pad, Reshape); then Pad
 * places the slab at its offset.
 */
export const slice: GradRule = (ctx) => {
  const { b } = ctx;
  const dims = [...ctx.outInfo(0).dims];
  const inDims = ctx.inInfo(0).dims;
  const rank = dims.length;
  let g = ctx.GO(0)!;
  for (const { axis, start, count, step } of sliceParams(ctx)) {
    if (count === -1) continue;
    if (count === 0) ctx.fail("empty slices are not supported");
    let first = start, s = step;
    if (s < 0) {
      g = sliceConst(b, g, [-1], [-SLICE_END], [axis], [-1]);
      first = start + (count - 1) * step;
      s = -s;
    }
    let len = count;
    if (s > 1) {
      g = padZeros(b, b.unsqueeze(g, [axis + 1]), axisPads(rank + 1, axis + 1, 0, s - 1));
      // Reshape merges the two axes; 0 copies a leading dim (e.g. a dynamic batch).
      const tail = dims.slice(axis + 1);
      if (tail.some((d) => d < 0)) ctx.fail("axes after a strided slice must be static");
      const target = [...dims.slice(0, axis).map(() => 0), count * s, ...tail];
      g = b.op("Reshape", [g, b.int64(target)]);
      len = count * s;
      if (first + len > inDims[axis]) {
        g = sliceConst(b, g, [0], [inDims[axis] - first], [axis]);
        len = inDims[axis] - first;
      }
    }
    g = padZeros(b, g, axisPads(rank, axis, first, inDims[axis] - first - len));
    dims[axis] = inDims[axis];
  }
  const out: (string | null)[] = Array.from({ length: ctx.inputCount }, () => null);
  out[0] = g;
  return out;
};

/**
 * Gather on float data with constant indices: dy is moved so the index axes come first, flattened
 * to [m, rest], multiplied by the constant one-hot matrix [D, m] that routes entry k to row
 * indices[k] (repeated indices sum, as they must), and moved back. Only the gathered axis needs a
 * static size: the others (the batch included — Swin's `qkv[0]` gathers axis 0 of
 * [3, N, heads, T, d]) are reshaped through Shape.
 */
export const gather: GradRule = (ctx) => {
  const { b } = ctx;
  if (ctx.needs(1)) ctx.fail("indices carry no gradient");
  const idx = ctx.constant(1);
  if (!idx) return ctx.fail("Gather needs constant indices to be differentiated");
  const dims = ctx.inInfo(0).dims, r = dims.length;
  let axis = attrInt(ctx.node, "axis", 0);
  if (axis < 0) axis += r;
  const D = dims[axis];
  if (D < 0) ctx.fail("the gathered axis must be static");
  const m = idx.length;
  const route = new Float32Array(D * m);
  for (let k = 0; k < m; k++) {
    const j = Number(idx[k]) < 0 ? Number(idx[k]) + D : Number(idx[k]);
    route[j * m + k] = 1;
  }
  const e = b.floatInit("gather_grad_route", [D, m], route);
  // A scalar index removed the axis: put it back (one index, m = 1).
  const outRank = ctx.outInfo(0).dims.length;
  const dy = outRank === r - 1 ? b.unsqueeze(ctx.GO(0)!, [axis]) : ctx.GO(0)!;
  const q = Math.max(1, outRank - r + 1);
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);
  const front = [...range(axis, axis + q), ...range(0, axis), ...range(axis + q, r - 1 + q)];
  const moved = axis === 0 ? dy : b.op("Transpose", [dy], { perm: front });
  const flat = b.op("Reshape", [moved, b.int64([m, -1])]);
  const others = [...range(0, axis), ...range(axis + 1, r)];
  // The other axes' sizes from dy itself: its batch is the gradient batch (seeds × images) on
  // whichever axis the batch is, where the forward input's may not be tiled (batch not first).
  const rest = b.op("Slice", [b.op("Shape", [moved]), b.int64([q]), b.int64([r - 1 + q])]);
  const target = b.op("Concat", [b.int64([D]), rest], { axis: 0 });
  const routed = b.op("Reshape", [b.op("MatMul", [e, flat]), target], {}, "gather_grad");
  if (axis === 0) return [routed, null];
  const layout = [axis, ...others];
  return [b.op("Transpose", [routed], { perm: range(0, r).map((k) => layout.indexOf(k)) }), null];
};
