/**
 * Small graph fragments shared by the scoring graphs: predicted class, one-hot, softmax,
 * sign without the Sign op (it falls back to the CPU on WebGPU).
 * @module
 */
import type { GraphBuilder } from "../onnx/builder.ts";

/** Class, one-hot and probabilities of a logits tensor [N, K]. */
export interface Head {
  /** int64 [N]: argmax (first maximum, as torch). */
  readonly cls: string;
  /** float [N, K] */
  readonly onehot: string;
  /** float [N, K] */
  readonly probs: string;
}

/** Emits argmax, one-hot and softmax of `logits` with `k` classes. */
export function head(b: GraphBuilder, logits: string, k: number): Head {
  const cls = b.op("ArgMax", [logits], { axis: 1, keepdims: 0 }, "class");
  // Equal against an iota instead of OneHot (missing for int64 on some backends), compared in
  // float: WebGPU keeps float Equal on the GPU but runs int64 Unsqueeze/Equal on the CPU.
  const iota = b.float(Array.from({ length: k }, (_, i) => i), [1, k]);
  const clsFloat = b.unsqueeze(b.op("Cast", [cls], { to: 1 }), [1]);
  const onehot = b.op("Cast", [b.op("Equal", [iota, clsFloat])], { to: 1 }, "onehot");
  const probs = b.op("Softmax", [logits], { axis: 1 }, "probs");
  return { cls, onehot, probs };
}

/** sign(x) with sign(0) = 0, from comparisons (no Sign op). */
export function sign(b: GraphBuilder, x: string): string {
  const zero = b.scalar(0);
  const pos = b.op("Cast", [b.op("Greater", [x, zero])], { to: 1 });
  const neg = b.op("Cast", [b.op("Less", [x, zero])], { to: 1 });
  return b.op("Sub", [pos, neg], {}, "sign");
}

/** Splits a seed-major [2N, …] tensor into its two [N, …] halves. */
export function halves(b: GraphBuilder, x: string): [string, string] {
  const attrs: Record<string, number> = b.opset >= 18 ? { axis: 0, num_outputs: 2 } : { axis: 0 };
  const [first, second] = b.nodeN("Split", [x], attrs, 2, "half");
  return [first, second];
}

/** Rank and channel axis of a split tensor (src/si/channel_axis.ts). */
export interface Layout {
  readonly rank: number;
  readonly channelAxis: number;
}

/**
 * Mean over every non-batch axis except the channel axis (the positions: pixels, tokens), giving
 * [N, C]; identity for rank-2 tensors.
 */
export function spatialMean(b: GraphBuilder, x: string, layout: Layout): string {
  const { rank, channelAxis } = layout;
  if (rank <= 2) return x;
  const axes = Array.from({ length: rank - 1 }, (_, i) => i + 1).filter((a) => a !== channelAxis);
  return b.reduce("ReduceMean", x, axes, false);
}

/**
 * Splits the gradients of a two-seed backward pass (`seedCount: 2`) into the first seed's (`g`)
 * and the second's (`d`), per differentiated tensor.
 */
export function seedHalves(
  b: GraphBuilder,
  both: ReadonlyMap<string, string>,
): { g: Map<string, string>; d: Map<string, string> } {
  const g = new Map<string, string>(), d = new Map<string, string>();
  for (const [w, grad] of both) {
    const [first, second] = halves(b, grad);
    g.set(w, first);
    d.set(w, second);
  }
  return { g, d };
}
