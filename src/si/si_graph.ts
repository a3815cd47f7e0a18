/**
 * The S&I scoring graph, efficient formulation (docs/method.md):
 * iteration 0 for all splits from ONE forward pass and ONE two-seed backward pass; iterations
 * t ≥ 1 run a remainder pass per split inside the same graph. One onnxruntime call scores a batch.
 * @module
 */
import { buildBackward } from "../grad/backward.ts";
import { GraphBuilder } from "../onnx/builder.ts";
import type { Graph } from "../onnx/graph.ts";
import type { ShapeMap } from "../onnx/shapes.ts";
import { head, seedHalves, sign, spatialMean } from "./heads.ts";
import { emitPerSplitStep, type Forward, type SplitIterates, type StepGrads } from "./per_split.ts";
import { layoutOf } from "./channel_axis.ts";
import { emitStackedPass } from "./stacked.ts";
import type { AdvLoss, Integration } from "../contract/scoring.ts";

/** Settings of the S&I graph. GAIA-Z is S&I with `iterations: 1`. */
export interface SiGraphSettings {
  readonly splits: readonly string[];
  /**
   * The step size α: a number (baked in as a constant) or the name of a float scalar graph
   * input, so one compiled graph serves every α.
   */
  readonly alpha: number | string;
  readonly iterations: number;
  readonly loss: AdvLoss;
  readonly integrate: Integration;
  /** Stack the remainder passes along the batch axis when the topology allows (default true). */
  readonly stack?: boolean;
  /**
   * Splits per stacked remainder pass (default: all). Smaller chunks bound the memory of one
   * pass (src/engine/memory_plan.ts) at the same FLOPs: each chunk is its own stacked pass.
   */
  readonly splitChunk?: number;
  /** Called once when stacking is not possible and per-split clones are emitted instead. */
  readonly onFallback?: (reason: string) => void;
  /**
   * Whether the batch axis is dynamic (default true). A model exported with a fixed batch size
   * cannot carry two cotangents or stacked remainders in its batch axis: it gets one backward
   * pass per cotangent and one remainder clone per split instead.
   */
  readonly dynamicBatch?: boolean;
}

/** Names of the S&I graph outputs. */
export interface SiOutputs {
  /** [N] −mean(P²) */
  readonly score: string;
  /** [N] int64 */
  readonly cls: string;
  /** [N] softmax probability of the class */
  readonly confidence: string;
  /** [N, L] mean of squared channel fractions per split */
  readonly layers: string;
  /** [N, ΣC] channel fractions P */
  readonly fractions: string;
}

/** Emits the S&I computation into `b`, after the model's own nodes. */
export function emitSi(
  b: GraphBuilder,
  graph: Graph,
  shapes: ShapeMap,
  s: SiGraphSettings,
): SiOutputs {
  if (!(s.iterations >= 1)) throw new RangeError(`iterations must be ≥ 1, got ${s.iterations}`);
  const logits = graph.outputNames[0];
  const k = shapes.get(logits)!.dims[1];
  const h0 = head(b, logits, k);
  const constant = (n: string) => graph.constantValue(n);
  const info = (n: string) => shapes.get(n);
  const needD0 = s.iterations >= 2 && s.loss === "ce";

  // Iteration 0: gradients of y_c (g⁰) and, for CE, of CE(y, c) (d⁰ = Jᵀ(softmax − e_c)).
  const multi = s.dynamicBatch !== false;
  const grads0 = gradients(
    b,
    {
      nodes: graph.nodes,
      info,
      constant,
      output: logits,
      wrt: s.splits,
    },
    h0.onehot,
    needD0 ? b.op("Sub", [h0.probs, h0.onehot]) : undefined,
    multi,
  );

  const alpha = typeof s.alpha === "string" ? s.alpha : b.scalar(s.alpha);
  // Per-split state: gᵗ (gradient of the largest logit), dᵗ (step direction), A, zᵗ.
  const g: string[] = [], d: string[] = [], acc: string[] = [], z: string[] = [...s.splits];
  s.splits.forEach((split, l) => {
    g[l] = grads0.g.get(split)!;
    d[l] = grads0.d?.get(split) ?? g[l];
    acc[l] = g[l];
  });
  for (let t = 1; t < s.iterations; t++) {
    for (let l = 0; l < s.splits.length; l++) {
      z[l] = b.op("Add", [z[l], b.op("Mul", [sign(b, d[l]), alpha])], {}, `z${t}`);
    }
    // d is only needed for the next step; the last iteration's step is unused.
    const needD = t < s.iterations - 1 && s.loss === "ce";
    const it: Iteration = {
      b,
      graph,
      shapes,
      splits: s.splits,
      z,
      onehot0: h0.onehot,
      k,
      needD,
      t,
    };
    const stacked = s.stack === false || !multi
      ? undefined
      : emitChunkedIteration(it, s.splitChunk ?? s.splits.length);
    if (stacked && !stacked.ok && t === 1) s.onFallback?.(stacked.reason);
    const step = stacked?.ok ? stacked : emitPerSplitIteration(it, multi);
    for (let l = 0; l < s.splits.length; l++) {
      g[l] = step.g[l];
      d[l] = step.d?.[l] ?? step.g[l];
      acc[l] = b.op(s.integrate === "add" ? "Add" : "Mul", [acc[l], g[l]], {}, "integrate");
    }
  }
  const confidence = b.reduce("ReduceMax", h0.probs, [1], false);
  return { cls: h0.cls, confidence, ...emitZeroFractionScore(b, graph, shapes, s.splits, acc) };
}

/**
 * The Z-variant score from the integrated gradients `acc` at each split: M = 1[A ≠ 0], P = its
 * spatial mean per channel, score = −mean(P²) over every channel, plus mean(P²) per layer.
 */
function emitZeroFractionScore(
  b: GraphBuilder,
  graph: Graph,
  shapes: ShapeMap,
  splits: readonly string[],
  acc: readonly string[],
): Pick<SiOutputs, "score" | "layers" | "fractions"> {
  const fractions = splits.map((split, l) => {
    const zero = b.scalar(0);
    const mask = b.op("Cast", [b.op("Not", [b.op("Equal", [acc[l], zero])])], { to: 1 }, "mask");
    return spatialMean(b, mask, layoutOf(graph, shapes, split));
  });

  const all = fractions.length === 1 ? fractions[0] : b.op("Concat", fractions, { axis: 1 });
  const score = b.op(
    "Neg",
    [b.reduce("ReduceMean", b.op("Mul", [all, all]), [1], false)],
    {},
    "score",
  );
  const perLayer = fractions.map((p) => b.reduce("ReduceMean", b.op("Mul", [p, p]), [1], true));
  const layers = perLayer.length === 1 ? perLayer[0] : b.op("Concat", perLayer, { axis: 1 });
  return { score, layers, fractions: all };
}

/** One iteration t ≥ 1 to emit. */
interface Iteration extends SplitIterates {
  /** e_c of the class predicted at t = 0 [N, K]. */
  readonly onehot0: string;
  /** Whether the CE step direction dᵗ is needed (not at the last iteration). */
  readonly needD: boolean;
  readonly t: number;
}

/** The remainders of iteration t in stacked passes of `chunk` consecutive splits each. */
function emitChunkedIteration(
  it: Iteration,
  chunk: number,
): (StepGrads & { ok: true }) | { ok: false; reason: string } {
  const g: string[] = [], d: string[] = [];
  for (let first = 0; first < it.splits.length; first += Math.max(1, chunk)) {
    const last = Math.min(it.splits.length, first + Math.max(1, chunk));
    const part = emitStackedIteration({
      ...it,
      splits: it.splits.slice(first, last),
      z: it.z.slice(first, last),
    }, first === 0 ? `t${it.t}` : `t${it.t}c${first}`);
    if (!part.ok) return part;
    g.push(...part.g);
    if (part.d) d.push(...part.d);
  }
  return it.needD ? { ok: true, g, d } : { ok: true, g };
}

/** Remainders of iteration t in one stacked pass (see stacked.ts), or why they cannot be. */
function emitStackedIteration(
  { b, graph, shapes, splits, z, onehot0, k, needD }: Iteration,
  tag: string,
): (StepGrads & { ok: true }) | { ok: false; reason: string } {
  const pass = emitStackedPass(b, graph, shapes, splits, z, tag);
  if (!pass.ok) return pass;
  const ht = head(b, pass.logits, k);
  const spec = {
    nodes: pass.nodes,
    info: pass.info,
    constant: (n: string) => graph.constantValue(n),
    wrt: z,
  };
  const gs = buildBackward(b, { ...spec, seeds: new Map([[pass.logits, ht.onehot]]) });
  if (!needD) return { ok: true, g: z.map((n) => gs.get(n)!) };
  // CE toward the class c fixed at t = 0, for every stream: e_c repeated once per split.
  const ec = b.op("Tile", [onehot0, b.int64([splits.length, 1])]);
  const seedD = b.op("Sub", [ht.probs, ec]);
  const ds = buildBackward(b, { ...spec, seeds: new Map([[pass.logits, seedD]]) });
  return { ok: true, g: z.map((n) => gs.get(n)!), d: z.map((n) => ds.get(n)!) };
}

/** One cloned remainder graph per split (any topology). */
function emitPerSplitIteration(it: Iteration, multi: boolean): StepGrads {
  const { b, onehot0, needD, t } = it;
  const step = { ...it, suffix: (l: number) => `#s${l}t${t}` };
  return emitPerSplitStep(step, ({ z, fwd, y, head: ht }) => {
    const grads = gradients(
      b,
      { ...fwd, output: y, wrt: [z] },
      ht.onehot,
      needD ? b.op("Sub", [ht.probs, onehot0]) : undefined,
      multi,
    );
    return { g: grads.g.get(z)!, d: grads.d?.get(z) };
  });
}

/** What {@link gradients} differentiates. */
interface GradientTarget extends Forward {
  readonly output: string;
  readonly wrt: readonly string[];
}

/**
 * Gradients at `wrt` for the cotangent `gSeed` and, if given, `dSeed`: in ONE backward pass with
 * both cotangents stacked along the batch axis when `multi`, else in two passes.
 */
function gradients(
  b: GraphBuilder,
  t: GradientTarget,
  gSeed: string,
  dSeed: string | undefined,
  multi: boolean,
): { g: Map<string, string>; d?: Map<string, string> } {
  const spec = { nodes: t.nodes, info: t.info, constant: t.constant, wrt: t.wrt };
  if (!dSeed) return { g: buildBackward(b, { ...spec, seeds: new Map([[t.output, gSeed]]) }) };
  if (!multi) {
    return {
      g: buildBackward(b, { ...spec, seeds: new Map([[t.output, gSeed]]) }),
      d: buildBackward(b, { ...spec, seeds: new Map([[t.output, dSeed]]) }),
    };
  }
  const seeds = b.op("Concat", [gSeed, dSeed], { axis: 0 }, "seeds");
  const both = buildBackward(b, { ...spec, seeds: new Map([[t.output, seeds]]), seedCount: 2 });
  return seedHalves(b, both);
}
