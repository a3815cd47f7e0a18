/**
 * What a loaded model offers to the service, the CLI and evaluation.
 * The manifest schema itself lives in `manifest.ts`.
 * @module
 */
import type { BackendName } from "../contract/backends.ts";
import type { Method, Scorer, ScoreSettings } from "../contract/scoring.ts";
import type { Preprocessor } from "../image/preprocess.ts";

/** The calibration of one method/settings on held-out ID data. */
export interface Calibration {
  readonly method: Method;
  readonly settings: ScoreSettings;
  /** Score threshold keeping 95 % of ID images (scores below it are flagged OOD). */
  readonly threshold: number;
  /** Share of ID data accepted at the threshold (0.95). */
  readonly tpr: number;
  /** Sorted ID scores (or evenly spaced quantiles of them) used for p-values. */
  readonly scores: readonly number[];
  /** How many ID images were scored. */
  readonly count: number;
  /** Description of the data used, e.g. "fmnist:test[5000:10000]". */
  readonly data: string;
  readonly created: string;
  /**
   * `fused` only: each component's sorted ID scores, for its p-values. `threshold` and `scores`
   * then describe the fused score, cross-fitted (docs/evaluation.md, "Fused calibration").
   */
  readonly components?: readonly ComponentDistribution[];
}

/** The ID score distribution of one component of `fused`. */
export interface ComponentDistribution {
  readonly method: Method;
  /** Sorted ID scores (all of them up to 1000, else evenly spaced quantiles). */
  readonly scores: readonly number[];
  /** How many ID images were scored. */
  readonly count: number;
}

/** A model ready to score: manifest, pre-processing and compiled scorer. */
export interface LoadedModel {
  readonly id: string;
  readonly dir: string;
  /** The validated manifest as stored on disk. */
  readonly manifest: import("./manifest.ts").Manifest;
  readonly labels: readonly string[];
  readonly backend: BackendName;
  readonly scorer: Scorer;
  /**
   * Turns a decoded image into the model's input tensor [C, H, W], driven by the manifest; its
   * `job`, when present, lets the decode worker run it.
   */
  preprocess: Preprocessor;
  /** Input dims [C, H, W]. */
  readonly inputDims: readonly [number, number, number];
  /** Calibration matching these settings, if the model has one. */
  calibrationFor(settings: ScoreSettings): Calibration | undefined;
  /** Default settings from the manifest. */
  readonly defaults: ScoreSettings;
}

/** The set of models a service instance serves. */
export interface ModelRegistry {
  /** All loaded models, in a stable order. */
  list(): readonly LoadedModel[];
  /** A model by id, or undefined. Ids are validated before any filesystem access. */
  get(id: string): LoadedModel | undefined;
  /** True once every configured model is loaded and its graphs compiled. */
  readonly ready: boolean;
  /** Why loading failed, for registries that load in the background; undefined otherwise. */
  readonly error?: unknown;
}
