/**
 * Compiles a classifier into one scoring graph per (method, settings).
 * @module
 */
import { assembleModel } from "../onnx/assemble.ts";
import { GraphBuilder, valueInfo } from "../onnx/builder.ts";
import { Graph } from "../onnx/graph.ts";
import { type ModelProto, opsetOf } from "../onnx/proto.ts";
import type { ShapeMap } from "../onnx/shapes.ts";
import { emitBaseline, emitEnergy } from "./baselines.ts";
import { head } from "./heads.ts";
import { emitSiA } from "./a_graph.ts";
import { emitSi } from "./si_graph.ts";
import {
  alphaIsGraphInput,
  isAMethod,
  isForwardMethod,
  isGradientMethod,
} from "../contract/methods.ts";
import { isFused } from "../contract/fusion.ts";
import type { ScoreSettings } from "../contract/scoring.ts";
import { canonicalSettings } from "../contract/settings.ts";
import { resolvePooled } from "./splits.ts";

/** Tensor names a gradient method's emitter returns (S&I-Z and S&I-A alike). */
type GradientGraphOutputs = Record<"score" | "cls" | "confidence" | "layers" | "fractions", string>;

/** Output names every scoring graph has. */
export const OUT = {
  score: "score",
  cls: "class",
  confidence: "confidence",
  layers: "layers",
  fractions: "fractions",
  /** Gradient graphs only: logsumexp of the logits, so `fused` needs no second forward pass. */
  energy: "energy",
} as const;

/**
 * The float scalar graph input carrying α where the method table says so (`alphaInput`: S&I-Z and
 * S&I-A with T ≥ 2, see `alphaIsGraphInput`): α is fed at run time, so a request with a new α
 * reuses the compiled graph.
 */
export const ALPHA_INPUT = "si_alpha";

/**
 * The settings a compiled graph depends on: the effective settings without the values fed at run
 * time (α). Two settings with the same graph settings share one compiled graph and session.
 */
export function graphSettings(s: ScoreSettings): ScoreSettings {
  const e = canonicalSettings(s);
  return alphaIsGraphInput(e) ? { ...e, alpha: 0 } : e;
}

/**
 * Builds the scoring model for one method; `splits` are used by gradient methods. The model's
 * Graph is built here from `shapes`, so shape arithmetic that is constant at this input size
 * always folds (src/onnx/fold_shapes.ts), whoever compiles. `stack: false`
 * forces one cloned remainder per split (the fallback for non-chain topologies);
 * `dynamicBatch: false` is for models exported with a fixed batch size.
 */
export function compileScoringModel(
  model: ModelProto,
  shapes: ShapeMap,
  settings: ScoreSettings,
  splits: readonly string[],
  options: {
    readonly stack?: boolean;
    readonly dynamicBatch?: boolean;
    /** Splits per stacked remainder pass (default: all). */
    readonly splitChunk?: number;
    /** Called when stacking is impossible and per-split clones are emitted. */
    readonly onFallback?: (reason: string) => void;
    /** The A variant's pooled pre-head features, when the manifest names them. */
    readonly pooled?: string;
  } = {},
): ModelProto {
  const graph = new Graph(model, shapes);
  const taken = [...graph.initializers.keys(), ...graph.inputNames];
  for (const n of graph.nodes) taken.push(...(n.output ?? []));
  const b = new GraphBuilder(opsetOf(model), taken, "si");
  if (isFused(settings)) {
    throw new Error(
      `Method "${settings.method}" is scored through a loaded model (src/models/fusion.ts)`,
    );
  }
  const s = canonicalSettings(settings);
  const alias = (from: string, to: string) =>
    b.nodes.push({ opType: "Identity", input: [from], output: [to], name: `${to}_out` });
  const outputs = [
    valueInfo(OUT.score, ["batch"]),
    valueInfo(OUT.cls, ["batch"], 7),
    valueInfo(OUT.confidence, ["batch"]),
  ];
  /** The outputs of a gradient method's graph, with the energy of the same logits. */
  const gradientOutputs = (o: GradientGraphOutputs, layers: number | string) => {
    for (const key of ["score", "cls", "confidence", "layers", "fractions"] as const) {
      alias(o[key], OUT[key]);
    }
    alias(emitEnergy(b, graph.outputNames[0]), OUT.energy);
    outputs.push(valueInfo(OUT.layers, ["batch", layers]));
    outputs.push(valueInfo(OUT.fractions, ["batch", "channels"]));
    outputs.push(valueInfo(OUT.energy, ["batch"]));
  };
  let alpha: number | string = s.alpha;
  if (alphaIsGraphInput(s)) {
    if (taken.includes(ALPHA_INPUT)) {
      throw new Error(`The model already has a tensor named "${ALPHA_INPUT}"`);
    }
    b.addInput(ALPHA_INPUT, []);
    alpha = ALPHA_INPUT;
  }
  if (isAMethod(s.method)) {
    const pooled = resolvePooled(graph, shapes, splits, s.method, options.pooled);
    const o = emitSiA(b, graph, shapes, {
      ...s,
      method: s.method,
      alpha,
      splits,
      ...options,
      pooled,
    });
    // One layer value per inner split: all splits but the last for si_a, all for gaia_a.
    gradientOutputs(o, "layers");
  } else if (isGradientMethod(s.method)) {
    const o = emitSi(b, graph, shapes, { ...s, alpha, splits, ...options });
    gradientOutputs(o, splits.length);
  } else if (isForwardMethod(s.method)) {
    const logits = graph.outputNames[0];
    const h = head(b, logits, shapes.get(logits)!.dims[1]);
    alias(emitBaseline(b, graph, shapes, s.method, h), OUT.score);
    alias(h.cls, OUT.cls);
    alias(b.reduce("ReduceMax", h.probs, [1], false), OUT.confidence);
  }
  return assembleModel(model, b, { outputs });
}
