/**
 * Gradient rules of matrix products.
 * @module
 */
import { attrFloat, attrInt } from "../../onnx/tensor.ts";
import type { GradRule } from "../types.ts";
import { unbroadcast } from "./broadcast.ts";

/**
 * Gemm `Y = α·A'·B' + β·C` with `A' = transA ? Aᵀ : A` (same for B). Each input-gradient is itself
 * one Gemm with the transposes arranged so no explicit Transpose is needed.
 */
export const gemm: GradRule = (ctx) => {
  const { b, node } = ctx;
  const dy = ctx.GO(0)!;
  const alpha = attrFloat(node, "alpha", 1), beta = attrFloat(node, "beta", 1);
  const tA = attrInt(node, "transA", 0), tB = attrInt(node, "transB", 0);
  const A = ctx.I(0), B = ctx.I(1);
  const gemmOf = (x: string, y: string, transA: number, transB: number) =>
    b.op("Gemm", [x, y], { alpha: { float: alpha }, transA, transB }, "gemm_grad");
  const dA = !ctx.needs(0) ? null : tA ? gemmOf(B, dy, tB, 1) : gemmOf(dy, B, 0, tB ? 0 : 1);
  const dB = !ctx.needs(1) ? null : tB ? gemmOf(dy, A, 1, tA) : gemmOf(A, dy, tA ? 0 : 1, 0);
  const dC = !ctx.needs(2)
    ? null
    : unbroadcast(ctx, beta === 1 ? dy : b.op("Mul", [dy, b.scalar(beta)]), 2);
  return [dA, dB, dC];
};
