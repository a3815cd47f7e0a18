/**
 * The A variant of S&I (the authors' ImageNet/BiT setting, docs/method.md "S&I and GAIA, A variant")
 * and GAIA-A, compiled like S&I-Z: iteration 0 of every split from the model's own forward pass
 * and ONE backward pass with the cotangents stacked along the batch axis; iterations t ≥ 1 from
 * the stacked remainder pass (stacked.ts), or one cloned remainder per split where the topology
 * does not allow stacking.
 *
 * Splits z_1 … z_L (the last L normalization outputs), `h` the pooled pre-head features:
 * - output component, last split only: A_L = Σ_t ∂Σ_k log_softmax(y)_k/∂zᵗ_L,
 *   o = sqrt(mean_c |mean_spatial(A_L)|);
 * - inner components, l < L: A_l = Σ_t ∂Σ_{j∈S} h_j/∂zᵗ_l with S the top ⌊0.9·C⌋ channels of
 *   w = ∂Σ_k y_k/∂h (signed, per image and iterate), q_l = |mean_spatial(A_l)|;
 * - score = −mean((q/o)²). Steps zᵗ⁺¹ = zᵗ + α·sign(∂CE(y, c)/∂zᵗ) (or of gᵗ for `max`).
 *
 * Decisions where the method is silent: `w` is recomputed at every iterate (for a linear head it
 * is the same at each: the head's column sums); top-k ties go to the lower channel index; `h`
 * is the tensor the head reads after pooling, whatever the head is (a Conv 1×1 reads [C,1,1], a
 * Gemm the flattened [C]: same channels, so the same S). The batch is only a batch: every
 * selection is per image (the authors' code mis-indexes top-k for a batch of one only).
 * @module
 */
import { buildBackward } from "../grad/backward.ts";
import type { GraphBuilder } from "../onnx/builder.ts";
import type { Graph } from "../onnx/graph.ts";
import type { ShapeMap } from "../onnx/shapes.ts";
import { aScore, filled, logSoftmaxSumSeed, onlyStream, topChannelMask } from "./a_parts.ts";
import { type Head, head, type Layout, seedHalves, sign } from "./heads.ts";
import { layoutOf } from "./channel_axis.ts";
import { emitPerSplitStep, type Forward, type StepGrads } from "./per_split.ts";
import type { SiOutputs } from "./si_graph.ts";
import { emitStackedPass } from "./stacked.ts";
import type { AdvLoss, Integration } from "../contract/scoring.ts";

/** Settings of the A-variant graph. */
export interface AGraphSettings {
  readonly method: "si_a" | "gaia_a";
  /** z_1 … z_L for si_a; the inner splits z_1 … z_{L−1} for gaia_a. */
  readonly splits: readonly string[];
  /** The pooled pre-head features h. */
  readonly pooled: string;
  /** The step size, or the name of the scalar graph input that carries it. */
  readonly alpha: number | string;
  readonly iterations: number;
  readonly loss: AdvLoss;
  readonly integrate: Integration;
  readonly stack?: boolean;
  readonly dynamicBatch?: boolean;
}

/** Everything an emitter needs. */
interface Ctx {
  readonly b: GraphBuilder;
  readonly graph: Graph;
  readonly shapes: ShapeMap;
  readonly s: AGraphSettings;
  /** Number of classes. */
  readonly k: number;
  /** Channels of h per image. */
  readonly channels: number;
  readonly layout: (tensor: string) => Layout;
}

/** Emits S&I-A or GAIA-A after the model's own nodes; outputs as S&I's (layers: inner splits). */
export function emitSiA(
  b: GraphBuilder,
  graph: Graph,
  shapes: ShapeMap,
  s: AGraphSettings,
): SiOutputs {
  if (!(s.iterations >= 1)) throw new RangeError(`iterations must be ≥ 1, got ${s.iterations}`);
  const logits = graph.outputNames[0];
  const hDims = shapes.get(s.pooled)!.dims;
  const ctx: Ctx = {
    b,
    graph,
    shapes,
    s,
    k: shapes.get(logits)!.dims[1],
    channels: hDims.slice(1).reduce((a, d) => a * d, 1),
    layout: (t) => layoutOf(graph, shapes, t),
  };
  const h0 = head(b, logits, ctx.k);
  const fwd: Forward = {
    nodes: graph.nodes,
    info: (n) => shapes.get(n),
    constant: (n) => graph.constantValue(n),
  };
  const grads = s.method === "gaia_a" ? gaiaA(ctx, fwd, h0) : siA(ctx, fwd, h0);
  const inner = s.method === "gaia_a" ? s.splits : s.splits.slice(0, -1);
  const r = aScore(
    b,
    grads.out,
    grads.outLayout,
    inner.map((z, l) => ({ grad: grads.inner[l], layout: ctx.layout(z) })),
  );
  const confidence = b.reduce("ReduceMax", h0.probs, [1], false);
  return { score: r.score, cls: h0.cls, confidence, layers: r.layers, fractions: r.ratios };
}

/** The integrated gradients the score reduces. */
interface AGrads {
  /** Gradient of the output component (at z_L for S&I-A, at h for GAIA-A). */
  readonly out: string;
  readonly outLayout: Layout;
  /** Integrated inner gradients, one per inner split. */
  readonly inner: readonly string[];
}

/** GAIA-A: one forward, a head-only backward for o, one backward from Σ_j h_j for the q_l. */
function gaiaA(ctx: Ctx, fwd: Forward, h0: Head): AGrads {
  const { b, s } = ctx;
  const logits = ctx.graph.outputNames[0];
  const seeds = new Map([[logits, logSoftmaxSumSeed(b, h0.probs, ctx.k)]]);
  const out = buildBackward(b, { ...fwd, seeds, wrt: [s.pooled] }).get(s.pooled)!;
  const ones = new Map([[s.pooled, filled(b, s.pooled, 1)]]);
  const g = buildBackward(b, { ...fwd, seeds: ones, wrt: s.splits });
  return { out, outLayout: ctx.layout(s.pooled), inner: s.splits.map((z) => g.get(z)!) };
}

/** S&I-A: iteration 0 from the model's pass, t ≥ 1 from remainder passes. */
function siA(ctx: Ctx, fwd: Forward, h0: Head): AGrads {
  const { b, s } = ctx;
  const L = s.splits.length;
  const logits = ctx.graph.outputNames[0];
  const multi = s.dynamicBatch !== false;
  const needD0 = s.iterations >= 2 && s.loss === "ce";
  const last = s.splits[L - 1];

  // t = 0. The output component only needs the nodes after z_L (normalization → pool → head):
  // its own small backward pass, rather than a cotangent block carried through the network.
  const lsm = logSoftmaxSumSeed(b, h0.probs, ctx.k);
  const gOut = buildBackward(b, { ...fwd, seeds: new Map([[logits, lsm]]), wrt: [last] });
  const mask0 = innerMask(ctx, fwd, logits, s.pooled);
  const t0 = innerAndStep(ctx, fwd, mask0, needD0 ? b.op("Sub", [h0.probs, h0.onehot]) : undefined);

  const g: string[] = [], d: string[] = [], acc: string[] = [], z: string[] = [...s.splits];
  s.splits.forEach((split, l) => {
    g[l] = l === L - 1 ? gOut.get(split)! : t0.g.get(split)!;
    d[l] = t0.d?.get(split) ?? g[l];
    acc[l] = g[l];
  });
  const alpha = typeof s.alpha === "string" ? s.alpha : b.scalar(s.alpha);
  for (let t = 1; t < s.iterations; t++) {
    for (let l = 0; l < L; l++) {
      z[l] = b.op("Add", [z[l], b.op("Mul", [sign(b, d[l]), alpha])], {}, `z${t}`);
    }
    const needD = t < s.iterations - 1 && s.loss === "ce";
    const step = (s.stack === false || !multi ? undefined : stackedStep(ctx, z, h0, needD, t)) ??
      perSplitStep(ctx, z, h0, needD, t);
    for (let l = 0; l < L; l++) {
      g[l] = step.g[l];
      d[l] = step.d?.[l] ?? g[l];
      acc[l] = b.op(s.integrate === "add" ? "Add" : "Mul", [acc[l], g[l]], {}, "integrate");
    }
  }
  return { out: acc[L - 1], outLayout: ctx.layout(last), inner: acc.slice(0, -1) };
}

/** The top-channel mask of `h` from w = ∂Σ_k y_k/∂h (a backward pass over the head only). */
function innerMask(ctx: Ctx, fwd: Forward, y: string, h: string): string {
  const { b } = ctx;
  const w = buildBackward(b, { ...fwd, seeds: new Map([[y, filled(b, y, 1)]]), wrt: [h] }).get(h)!;
  return topChannelMask(b, w, h, ctx.channels);
}

/**
 * t = 0 inner gradients ∂Σ_{j∈S} h_j/∂z_l (seeded at h) and, for CE, the step directions
 * ∂CE/∂z_l at every split (seeded at the logits): one backward pass, the two cotangents stacked
 * along the batch axis (`seedCount: 2`), or two passes for a fixed-batch model.
 */
function innerAndStep(
  ctx: Ctx,
  fwd: Forward,
  mask: string,
  dSeed: string | undefined,
): { g: Map<string, string>; d?: Map<string, string> } {
  const { b, s } = ctx;
  const logits = ctx.graph.outputNames[0];
  const inner = s.splits.slice(0, -1);
  const gSeeds = new Map([[s.pooled, mask]]);
  if (!dSeed) return { g: buildBackward(b, { ...fwd, seeds: gSeeds, wrt: inner }) };
  const dSeeds = new Map([[logits, dSeed]]);
  if (s.dynamicBatch === false) {
    return {
      g: buildBackward(b, { ...fwd, seeds: gSeeds, wrt: inner }),
      d: buildBackward(b, { ...fwd, seeds: dSeeds, wrt: s.splits }),
    };
  }
  const seeds = new Map([
    [s.pooled, b.op("Concat", [mask, filled(b, mask, 0)], { axis: 0 }, "seeds_h")],
    [logits, b.op("Concat", [filled(b, dSeed, 0), dSeed], { axis: 0 }, "seeds_y")],
  ]);
  const both = buildBackward(b, { ...fwd, seeds, wrt: s.splits, seedCount: 2 });
  return seedHalves(b, both);
}

/**
 * All remainders of iteration t in one stacked pass: stream L (the last split) seeds the
 * log-softmax sum at the logits, streams l < L seed their top-channel masks at h; undefined
 * when the topology does not allow stacking.
 */
function stackedStep(
  ctx: Ctx,
  z: readonly string[],
  h0: Head,
  needD: boolean,
  t: number,
): StepGrads | undefined {
  const { b, graph, s } = ctx;
  const L = s.splits.length;
  const pass = emitStackedPass(b, graph, ctx.shapes, s.splits, z, `a${t}`);
  if (!pass.ok) return undefined;
  const h = pass.allStreams(s.pooled);
  if (!h) return undefined;
  const fwd: Forward = {
    nodes: pass.nodes,
    info: pass.info,
    constant: (n) => graph.constantValue(n),
  };
  const ht = head(b, pass.logits, ctx.k);
  const mask = innerMask(ctx, fwd, pass.logits, h);
  const seeds = new Map([
    [pass.logits, onlyStream(b, logSoftmaxSumSeed(b, ht.probs, ctx.k), L, L - 1)],
    [h, onlyStream(b, mask, L, L - 1, true)],
  ]);
  const gs = buildBackward(b, { ...fwd, seeds, wrt: z });
  if (!needD) return { g: z.map((n) => gs.get(n)!) };
  // CE toward the class c fixed at t = 0, for every stream: e_c repeated once per split.
  const ec = b.op("Tile", [h0.onehot, b.int64([L, 1])]);
  const dSeeds = new Map([[pass.logits, b.op("Sub", [ht.probs, ec])]]);
  const ds = buildBackward(b, { ...fwd, seeds: dSeeds, wrt: z });
  return { g: z.map((n) => gs.get(n)!), d: z.map((n) => ds.get(n)!) };
}

/** One cloned remainder per split (any topology, fixed-batch models). */
function perSplitStep(
  ctx: Ctx,
  z: readonly string[],
  h0: Head,
  needD: boolean,
  t: number,
): StepGrads {
  const { b, s } = ctx;
  const step = { ...ctx, splits: s.splits, z, suffix: (l: number) => `#a${l}t${t}` };
  return emitPerSplitStep(step, ({ l, z: zl, fwd, y, head: ht, rename }) => {
    let seeds: Map<string, string>;
    if (l === s.splits.length - 1) seeds = new Map([[y, logSoftmaxSumSeed(b, ht.probs, ctx.k)]]);
    else {
      const h = rename(s.pooled);
      seeds = new Map([[h, innerMask(ctx, fwd, y, h)]]);
    }
    const g = buildBackward(b, { ...fwd, seeds, wrt: [zl] }).get(zl)!;
    if (!needD) return { g };
    const dSeeds = new Map([[y, b.op("Sub", [ht.probs, h0.onehot])]]);
    return { g, d: buildBackward(b, { ...fwd, seeds: dSeeds, wrt: [zl] }).get(zl)! };
  });
}
