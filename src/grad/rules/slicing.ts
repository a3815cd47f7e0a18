/**
 * Opset-aware helpers that cut and pad tensors with constant geometry: Slice and Pad moved their
 * parameters from attributes to inputs at opsets 10 and 11.
 * @module
 */
import type { GraphBuilder } from "../../onnx/builder.ts";

/** Largest int64 ONNX accepts as "to the end" in Slice. */
export const SLICE_END = 2 ** 62;

/** Slice with constant starts/ends/axes/steps, in the form the opset expects. */
export function sliceConst(
  b: GraphBuilder,
  x: string,
  starts: readonly number[],
  ends: readonly number[],
  axes: readonly number[],
  steps?: readonly number[],
): string {
  if (b.opset < 10) {
    if (steps && steps.some((s) => s !== 1)) throw new Error("Slice steps need opset 10");
    return b.op("Slice", [x], { starts: [...starts], ends: [...ends], axes: [...axes] });
  }
  const inputs = [x, b.int64(starts), b.int64(ends), b.int64(axes)];
  if (steps) inputs.push(b.int64(steps));
  return b.op("Slice", inputs);
}

/** Zero padding with ONNX pads `[begin_0…, end_0…]` (all ≥ 0), in the form the opset expects. */
export function padZeros(b: GraphBuilder, x: string, pads: readonly number[]): string {
  if (pads.every((p) => p === 0)) return x;
  if (b.opset < 11) return b.op("Pad", [x], { pads: [...pads], mode: "constant" });
  return b.op("Pad", [x, b.int64(pads)], { mode: "constant" });
}

/** Pads with a constant value (ONNX pads `[begin…, end…]`). */
export function padValue(b: GraphBuilder, x: string, pads: readonly number[], value: number) {
  if (pads.every((p) => p === 0)) return x;
  if (b.opset < 11) {
    return b.op("Pad", [x], { pads: [...pads], mode: "constant", value: { float: value } });
  }
  return b.op("Pad", [x, b.int64(pads), b.scalar(value)], { mode: "constant" });
}

/** Pads for a single axis of a rank-`rank` tensor. */
export function axisPads(rank: number, axis: number, begin: number, end: number): number[] {
  const pads = Array(2 * rank).fill(0);
  pads[axis] = begin;
  pads[axis + rank] = end;
  return pads;
}
