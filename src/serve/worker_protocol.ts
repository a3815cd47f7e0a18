/**
 * Messages between `worker_scorer.ts` (HTTP thread) and `scorer_worker.ts` (scoring thread).
 * @module
 */
import type { ScorerFactory } from "../contract/scoring.ts";
import type { ImageScore, ScoreSettings } from "../contract/scoring.ts";

/** HTTP thread → worker. */
export type ToWorker =
  | {
    readonly type: "init";
    /** Module exporting `createScorer: ScorerFactory`. */
    readonly factoryUrl: string;
    readonly args: Parameters<ScorerFactory>[0];
  }
  | {
    readonly type: "score";
    readonly id: number;
    readonly data: Float32Array;
    readonly dims: readonly [number, number, number, number];
    readonly settings: ScoreSettings;
  }
  /** The batch of a `score` message is no longer wanted: stop before its next run. */
  | { readonly type: "abort"; readonly id: number };

/** A serializable error. */
export interface WorkerError {
  readonly name: string;
  readonly message: string;
}

/** Worker → HTTP thread. */
export type FromWorker =
  | { readonly type: "ready"; readonly splits: Readonly<Record<string, readonly string[]>> }
  | { readonly type: "failed"; readonly error: WorkerError }
  /** The worker's compiler fell back to per-split clones (src/engine/fallbacks.ts). */
  | { readonly type: "fallback"; readonly model: string; readonly reason: string }
  | {
    readonly type: "scored";
    readonly id: number;
    readonly results?: ImageScore[];
    readonly error?: WorkerError;
  };
