/**
 * The scoring contract shared by the engine, the CLI, the service and evaluation.
 * Every score follows one convention: higher = more in-distribution.
 * @module
 */
import type { BackendName } from "./backends.ts";

/**
 * Scoring methods. `si` is the product's method (S&I-Z); `si_a` is the authors' ImageNet/BiT
 * variant (S&I-A, gradient values near the head); `fused` combines S&I (or S&I-A) with energy
 * through their calibration p-values (`src/models/fusion.ts`); the others are baselines (`gaia_a`
 * is GAIA's ImageNet setting, the baseline S&I-A extends).
 */
export const METHODS = [
  "si",
  "si_a",
  "gaia_z",
  "gaia_a",
  "msp",
  "maxlogit",
  "energy",
  "gradnorm",
  "fused",
] as const;
/** A scoring method name. */
export type Method = typeof METHODS[number];

/** Adversarial loss used for the S&I step direction. */
export type AdvLoss = "ce" | "max";
/** How the per-iteration gradients are integrated. */
export type Integration = "add" | "multiply";

/** The split-policy names (manifests' `splits.policy`), in the order usage texts list them. */
export const SPLIT_POLICIES = [
  "normalization",
  "normalization+pool",
  "last-normalization",
  "tensors",
] as const;
/** A split-policy name. */
export type SplitPolicyName = typeof SPLIT_POLICIES[number];

/** Which tensors are split points; `kind` is one of {@link SPLIT_POLICIES}. */
export type SplitPolicy =
  & (
    | { readonly kind: "normalization" }
    | { readonly kind: "normalization+pool" }
    /** The last `count` normalization outputs in graph order (the A variant's splits). */
    | { readonly kind: "last-normalization"; readonly count: number }
    | { readonly kind: "tensors"; readonly names: readonly string[] }
  )
  & {
    /**
     * The pooled pre-head features `h` the A variant (si_a, gaia_a) differentiates; found
     * automatically when omitted.
     */
    readonly pooled?: string;
  };

/** Default split count of the `last-normalization` policy (the authors' ten BiT splits). */
export const LAST_NORMALIZATION_COUNT = 10;

/** Settings of one scoring run. Fields irrelevant to a method are ignored by it. */
export interface ScoreSettings {
  readonly method: Method;
  /** S&I step size α (default 0.001). */
  readonly alpha: number;
  /** S&I iterations T (default 2). */
  readonly iterations: number;
  readonly loss: AdvLoss;
  readonly integrate: Integration;
}

/** Defaults as in the authors' code. */
export const DEFAULT_SETTINGS: ScoreSettings = {
  method: "si",
  alpha: 0.001,
  iterations: 2,
  loss: "ce",
  integrate: "add",
};

/** The result for one image. */
export interface ImageScore {
  /** OOD score; higher = more in-distribution. */
  readonly score: number;
  /** Predicted class index (argmax of the logits). */
  readonly class: number;
  /** Softmax probability of the predicted class. */
  readonly confidence: number;
  /** For gradient methods: per split layer, the mean of squared channel fractions. */
  readonly layers?: readonly number[];
  /** For gradient methods: the energy score (logsumexp of the logits) of the same forward pass. */
  readonly energy?: number;
  /**
   * Why `score` is not a finite number (e.g. GAIA-A's output component is exactly 0); present
   * exactly when it is not. Lines and calibration turn it into an error, never a bare null.
   */
  readonly error?: string;
  /** For `fused`: each component's score and its calibration p-value. */
  readonly components?: readonly ComponentScore[];
}

/** One component of a fused score. */
export interface ComponentScore {
  readonly method: Method;
  readonly score: number;
  /** (calibration ID scores ≤ score, + 1) / (n + 1). */
  readonly p_value: number;
}

/** A batch of pre-processed inputs, NCHW float32. */
export interface InputBatch {
  readonly data: Float32Array;
  /** [N, C, H, W] */
  readonly dims: readonly [number, number, number, number];
}

/** Scores batches of pre-processed inputs with one model. */
export interface Scorer {
  /** Names of the split tensors used by gradient methods under the given settings. */
  splits(settings: ScoreSettings): readonly string[];
  /**
   * Scores a batch; the i-th result belongs to the i-th image. `options.signal` aborts when no
   * image of the batch is wanted any more (its clients went away); a scorer may stop early and
   * reject, or ignore it.
   */
  score(
    batch: InputBatch,
    settings: ScoreSettings,
    options?: ScoreCallOptions,
  ): Promise<ImageScore[]>;
}

/** Per-call options of `Scorer.score`. */
export interface ScoreCallOptions {
  readonly signal?: AbortSignal;
}

/** What a scorer factory reads from a model's manifest (the manifest type satisfies it). */
export interface ScorerManifest {
  readonly name: string;
  readonly splits: {
    readonly policy: SplitPolicyName;
    readonly names?: readonly string[];
    /** How many normalization outputs `last-normalization` keeps. */
    readonly count?: number;
    /** The pooled pre-head features of the A variant, when named. */
    readonly pooled?: string;
  };
  /** Settings compiled ahead of the first request by the service's factory. */
  readonly defaults: ScoreSettings;
  /** The methods `fused` combines (see `fusion.ts`), when the manifest names them. */
  readonly fusion?: { readonly components: readonly [Method, "energy"] };
}

/**
 * Default bound of one model's compile cache (`.cache/`) in MB: room for the model's own entries
 * and a few dozen compiled settings of a ResNet-50-sized model, least recently used ones removed.
 */
export const DEFAULT_CACHE_MAX_MB = 2048;

/** Builds a scorer for a model; the S&I engine provides the real ones (`src/engine/engine.ts`). */
export type ScorerFactory = (args: {
  readonly modelBytes: Uint8Array;
  readonly manifest: ScorerManifest;
  readonly backend: BackendName;
  readonly inputDims: readonly [number, number, number];
  /** Directory whose `.cache/` sub-folder holds compiled graphs (the model directory). */
  readonly cacheDir?: string;
  /** Most MB that `.cache/` folder may hold (least recently used entries go; engine default). */
  readonly cacheMaxMb?: number;
  /** Memory budget of the process in MB; the engine sizes its runs to it (memory_plan.ts). */
  readonly memoryBudgetMb?: number;
  /** The model bytes' sha256, when the caller has checked it (cache keys need not hash again). */
  readonly modelSha256?: string;
  /**
   * The file the model bytes were read from: the scorer then owns `modelBytes` and may free them
   * (detach their buffer) and read the file back when it needs the model again.
   */
  readonly modelFile?: string;
}) => Promise<Scorer>;

/** The split policy a manifest asks for, in the engine's terms. */
export function splitPolicyOf(m: Pick<ScorerManifest, "splits">): SplitPolicy {
  const { policy, names, count, pooled } = m.splits;
  const extra = pooled ? { pooled } : {};
  if (policy === "tensors") return { kind: "tensors", names: names ?? [], ...extra };
  if (policy === "last-normalization") {
    return { kind: policy, count: count ?? LAST_NORMALIZATION_COUNT, ...extra };
  }
  return { kind: policy, ...extra };
}
