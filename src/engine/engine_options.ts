/**
 * Options of the S&I engine (engine.ts).
 * @module
 */
import type { BackendName } from "../contract/backends.ts";
import type { SplitPolicy } from "../contract/scoring.ts";

/** How to build an engine. */
export interface EngineOptions {
  readonly modelBytes: Uint8Array;
  readonly backend: BackendName;
  /** Input dims [C, H, W]. */
  readonly inputDims: readonly [number, number, number];
  /** Split policy for S&I (GAIA-Z always uses the normalization outputs). */
  readonly splitPolicy: SplitPolicy;
  /** Largest batch one run of an output-based method receives (default 32); larger are chunked. */
  readonly maxBatch?: number;
  /**
   * Largest batch one run of a gradient method (S&I, GAIA-Z) receives (default 8). The stacked
   * remainder pass holds one copy of the late activations per split, so memory grows with
   * splits × batch (about 1.2 GB at 8 and 4.4 GB at 32 for the fixture model) while the time
   * per image barely changes beyond 8.
   */
  readonly maxGradientBatch?: number;
  /** Name used in error messages. */
  readonly source?: string;
  /** Stack remainder passes along the batch axis when possible (default true). */
  readonly stackRemainders?: boolean;
  /** Directory whose `.cache/` sub-folder holds compiled graphs; no disk cache when omitted. */
  readonly cacheDir?: string;
  /**
   * Most MB the `.cache/` folder may hold (default 2048): least recently used entries are removed
   * after a session is created (src/runtime/cache_prune.ts).
   */
  readonly cacheMaxMb?: number;
  /**
   * Compiled sessions kept at once (default 4, fewer when the memory budget says so), least
   * recently used evicted: request parameters (T, loss, …) name many graphs, and each session
   * holds its own memory.
   */
  readonly maxSessions?: number;
  /**
   * Memory budget of the process in MB (default: from the host's memory, see memory_plan.ts):
   * gradient runs are split into batches and split chunks whose estimated peak fits it.
   */
  readonly memoryBudgetMb?: number;
  /**
   * Emit (and write) new scoring graphs in a short-lived Worker, so that this thread keeps
   * running other requests meanwhile and only pays the session creation (default true; done on
   * this thread anyway where no Worker can be started). See src/engine/compile_off_thread.ts.
   */
  readonly compileInWorker?: boolean;
  /** The model bytes' sha256 when the caller has checked it (saves hashing them again). */
  readonly modelSha256?: string;
  /**
   * The file `modelBytes` were read from: the engine then owns `modelBytes` — it frees (detaches)
   * them once it is created and reads the model back only to emit a new scoring graph
   * (model_source.ts). Do not reuse the bytes after passing a file.
   */
  readonly modelFile?: string;
  /** The runtime to use instead of the process-wide one for `backend` (tests wrap it). */
  readonly runtime?: import("../runtime/types.ts").Runtime;
}
