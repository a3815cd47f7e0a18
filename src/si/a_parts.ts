/**
 * Graph fragments of the A variant (S&I-A, GAIA-A): cotangent seeds, the top-⌊0.9·C⌋ channel
 * mask of the pooled features, per-stream row selection and the final score.
 * @module
 */
import type { GraphBuilder } from "../onnx/builder.ts";
import { type Layout, spatialMean } from "./heads.ts";

/** Share of pooled channels the inner components differentiate (the authors' 0.9). */
export const TOP_SHARE = 0.9;

/** A float tensor shaped like `like`, filled with `value` (0 or 1 here). */
export function filled(b: GraphBuilder, like: string, value: number): string {
  const shape = b.op("Shape", [like]);
  if (value === 0) return b.op("ConstantOfShape", [shape], {}, "zeros");
  return b.op("Add", [b.op("ConstantOfShape", [shape], {}, "zeros"), b.scalar(value)], {}, "fill");
}

/**
 * Cotangent of `Σ_k log_softmax(y)_k` at the logits: `1 − K·softmax(y)` (PyTorch's LogSoftmax
 * backward of a ones cotangent).
 */
export function logSoftmaxSumSeed(b: GraphBuilder, probs: string, k: number): string {
  return b.op("Sub", [b.scalar(1), b.op("Mul", [probs, b.scalar(k)])], {}, "lsm_seed");
}

/**
 * The 0/1 mask, shaped like `h`, of the ⌊0.9·C⌋ channels with the LARGEST `w` (signed), per
 * row. `h` and `w` are [R, …] with C = the product of the non-batch dims (a pooled [C,1,1] map
 * or a flat [C] vector alike). Ties follow ONNX TopK: the lower channel index is taken first,
 * so exactly ⌊0.9·C⌋ channels are selected (torch.topk does not specify its tie order).
 */
export function topChannelMask(b: GraphBuilder, w: string, h: string, channels: number): string {
  const count = Math.max(1, Math.floor(TOP_SHARE * channels));
  const flat = b.op("Flatten", [w], { axis: 1 });
  const [, indices] = b.nodeN("TopK", [flat, b.int64([count])], { axis: 1, largest: 1 }, 2, "top");
  const ones = filled(b, b.op("Cast", [indices], { to: 1 }), 1);
  const mask = b.op("ScatterElements", [filled(b, flat, 0), indices, ones], { axis: 1 }, "topmask");
  return b.op("Reshape", [mask, b.op("Shape", [h])], {}, "topmask_h");
}

/**
 * Keeps the rows of stream `keep` of a split-major stacked tensor ([L·N, …]: rows l·N … (l+1)·N
 * belong to stream l) and zeroes the others, or the reverse with `invert`.
 */
export function onlyStream(
  b: GraphBuilder,
  x: string,
  streams: number,
  keep: number,
  invert = false,
): string {
  if (streams === 1) return invert ? filled(b, x, 0) : x;
  const attrs: Record<string, number> = b.opset >= 18
    ? { axis: 0, num_outputs: streams }
    : { axis: 0 };
  const parts = b.nodeN("Split", [x], attrs, streams, "stream");
  const kept = parts.map((p, l) => ((l === keep) !== invert ? p : filled(b, p, 0)));
  return b.op("Concat", kept, { axis: 0 }, "streams");
}

/** The A-variant score and its parts, from the integrated gradients. */
export interface AScore {
  /** [N] −mean((q/o)²) */
  readonly score: string;
  /** [N, L_inner] mean((q_l/o)²) per inner split */
  readonly layers: string;
  /** [N, ΣC] q/o */
  readonly ratios: string;
}

/**
 * `o = sqrt(mean_c |mean_spatial(outGrad)|)`, `q_l = |mean_spatial(A_l)|`, score
 * `−mean((q/o)²)` over all inner channels. The ratio is formed before squaring: the values are
 * small (gradients of order 1e-3 and below), and q/o is of order 1, so nothing underflows in
 * float32 whatever the model's gradient scale.
 */
export function aScore(
  b: GraphBuilder,
  outGrad: string,
  outLayout: Layout,
  inner: readonly { grad: string; layout: Layout }[],
): AScore {
  // For GAIA-A the output gradient is at h itself ([N,C,1,1] or [N,C]): the spatial mean is
  // the identity there.
  const outMeans = b.op("Abs", [spatialMean(b, outGrad, outLayout)]);
  const o = b.op("Sqrt", [b.reduce("ReduceMean", outMeans, [1], true)], {}, "o");
  const ratios = inner.map(({ grad, layout }) =>
    b.op("Div", [b.op("Abs", [spatialMean(b, grad, layout)]), o], {}, "q_over_o")
  );
  const all = ratios.length === 1 ? ratios[0] : b.op("Concat", ratios, { axis: 1 });
  const squaredMean = (x: string, keep: boolean) =>
    b.reduce("ReduceMean", b.op("Mul", [x, x]), [1], keep);
  const score = b.op("Neg", [squaredMean(all, false)], {}, "score");
  const per = ratios.map((r) => squaredMean(r, true));
  const layers = per.length === 1 ? per[0] : b.op("Concat", per, { axis: 1 });
  return { score, layers, ratios: all };
}
