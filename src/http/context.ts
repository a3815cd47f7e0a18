/**
 * What route handlers share: registry, config, batcher, metrics, the image decoder and
 * in-flight tracking for graceful shutdown.
 * @module
 */
import type { Config } from "../config.ts";
import { MODEL_ID_RE } from "../contract/model_id.ts";
import { ApiError } from "../errors.ts";
import type { PreprocessJob } from "../image/preprocess.ts";
import type { DecodedImage } from "../image/types.ts";
import type { LoadedModel, ModelRegistry } from "../models/types.ts";
import type { Batcher } from "../serve/batcher.ts";
import type { Metrics } from "../serve/metrics.ts";

/** Decodes one image, refusing oversized headers before decoding (see src/image/decode.ts). */
export type DecodeFn = (
  bytes: Uint8Array,
  name: string,
  options: { readonly maxPixels: number },
) => Promise<DecodedImage>;

/**
 * Decodes AND pre-processes one image off the HTTP thread (the decode pool's `prepare`), for
 * models whose pre-processor is the manifest-driven one (`Preprocessor.job`).
 */
export type PrepareFn = (
  bytes: Uint8Array,
  name: string,
  options: { readonly maxPixels: number },
  job: PreprocessJob,
) => Promise<Float32Array>;

/** Shared state of one app instance. */
export interface AppContext {
  readonly registry: ModelRegistry;
  readonly config: Config;
  readonly metrics: Metrics;
  readonly batcher: Batcher;
  readonly decode: DecodeFn;
  /** Off-thread decode + pre-process; absent when the app was given its own `decode`. */
  readonly prepare?: PrepareFn;
  /**
   * Registers a response that outlives its handler (a stream); call the result when it ends.
   * `onAbort` ends it early when shutdown's grace period runs out.
   */
  track(onAbort?: () => void): () => void;
  /** Aborted (with the 503 shutting_down error) when the service starts shutting down. */
  readonly shutdown: AbortSignal;
}

/**
 * The model named in a URL. The id is checked against `MODEL_ID_RE` before the registry sees it.
 * @throws {ApiError} 404 unknown model, or 503 while models are still loading.
 */
export function findModel(ctx: AppContext, id: string): LoadedModel {
  const model = MODEL_ID_RE.test(id) ? ctx.registry.get(id) : undefined;
  if (model) return model;
  const shown = JSON.stringify(id.slice(0, 64));
  if (!ctx.registry.ready) {
    throw new ApiError(
      503,
      "not_ready",
      `Cannot find model ${shown} yet: models are still loading`,
      { "retry-after": String(ctx.config.retryAfterSeconds) },
    );
  }
  throw new ApiError(404, "not_found", `Cannot find model ${shown}`);
}
