/**
 * Gradient rules of matrix products.
 * @module
 */
import { attrFloat, attrInt } from "../../onnx/tensor.ts";
import type { GradRule } from "../types.ts";
import { sumToInput, unbroadcast } from "./broadcast.ts";

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

/** Perm that swaps the last two axes of a rank-`rank` tensor. */
function swapLast(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, k) => k);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}

/**
 * MatMul (numpy semantics: batched, broadcasting, 1-D operands promoted and their axis removed).
 * dA = dY·Bᵀ and dB = Aᵀ·dY on the promoted operands, summed over broadcast batch axes.
 */
export const matMul: GradRule = (ctx) => {
  const { b } = ctx;
  const dy = ctx.GO(0)!;
  const aDims = ctx.inInfo(0).dims, bDims = ctx.inInfo(1).dims;
  if (aDims.length === 1 && bDims.length === 1) {
    // Dot product: y is a scalar.
    return [
      ctx.needs(0) ? b.op("Mul", [dy, ctx.I(1)]) : null,
      ctx.needs(1) ? b.op("Mul", [dy, ctx.I(0)]) : null,
    ];
  }
  // Promote 1-D operands (and dY accordingly) so both are at least matrices.
  let A = ctx.I(0), B = ctx.I(1), g = dy;
  let yDims = [...ctx.outInfo(0).dims];
  if (aDims.length === 1) {
    A = b.unsqueeze(A, [0]);
    g = b.unsqueeze(g, [yDims.length - 1]);
    yDims = [...yDims.slice(0, -1), 1, yDims[yDims.length - 1]];
  }
  if (bDims.length === 1) {
    B = b.unsqueeze(B, [1]);
    g = b.unsqueeze(g, [yDims.length]);
    yDims = [...yDims, 1];
  }
  const aRank = Math.max(2, aDims.length), bRank = Math.max(2, bDims.length);
  const M = yDims[yDims.length - 2], N = yDims[yDims.length - 1];
  const K = aDims.length === 1 ? aDims[0] : aDims[aDims.length - 1];
  const batch = yDims.slice(0, -2);
  const result: (string | null)[] = [null, null];
  if (ctx.needs(0)) {
    const dA = b.op("MatMul", [g, b.op("Transpose", [B], { perm: swapLast(bRank) })]);
    // A promoted from 1-D: the leading axis of size 1 is summed away with the batch axes.
    result[0] = sumToInput(ctx, dA, [...batch, M, K], 0);
  }
  if (ctx.needs(1)) {
    const dB = b.op("MatMul", [b.op("Transpose", [A], { perm: swapLast(aRank) }), g]);
    if (bDims.length === 1) {
      // B promoted from 1-D to [K, 1]: drop that trailing axis before summing the batch.
      result[1] = sumToInput(ctx, b.squeeze(dB, [batch.length + 1]), [...batch, K], 1);
    } else result[1] = sumToInput(ctx, dB, [...batch, K, N], 1);
  }
  return result;
};
