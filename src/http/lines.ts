/**
 * The NDJSON lines of the score route: one per image (result or error) and a summary.
 * @module
 */
import { pValue } from "../models/calibration.ts";
import { ApiError, type ErrorCode } from "../errors.ts";
import type { LoadedModel } from "../models/types.ts";
import type { ComponentScore, ImageScore, Method, ScoreSettings } from "../contract/scoring.ts";

/** A scored image's line. `ood`, `threshold`, `p_value` are null when the model is uncalibrated. */
export interface ScoreLine {
  readonly index: number;
  readonly name: string;
  readonly score: number;
  readonly ood: boolean | null;
  readonly threshold: number | null;
  readonly p_value: number | null;
  readonly class: number;
  readonly label: string | null;
  readonly confidence: number;
  readonly method: Method;
  readonly layers?: readonly number[];
  /** `fused` only: each component's score and calibration p-value. */
  readonly components?: readonly ComponentScore[];
}

/**
 * An image that could not be scored: a decoding problem of its own, `internal` (the scorer
 * failed), or `timeout` (not scored by the request's deadline).
 */
export interface ErrorLine {
  readonly index: number;
  readonly name: string;
  readonly error: { readonly code: ErrorCode; readonly message: string };
}

/** Builds the line of a scored image. */
export function scoreLine(
  model: LoadedModel,
  settings: ScoreSettings,
  index: number,
  name: string,
  s: ImageScore,
): ScoreLine {
  const cal = model.calibrationFor(settings);
  return {
    index,
    name,
    score: s.score,
    ood: cal ? s.score < cal.threshold : null,
    threshold: cal?.threshold ?? null,
    p_value: cal && cal.scores.length ? pValue(cal.scores, s.score) : null,
    class: s.class,
    label: model.labels[s.class] ?? null,
    confidence: s.confidence,
    method: settings.method,
    ...(s.layers ? { layers: s.layers } : {}),
    ...(s.components ? { components: s.components } : {}),
  };
}

/** Builds the line of a failed image; unknown errors are logged and not shown to the client. */
export function errorLine(index: number, name: string, err: unknown): ErrorLine {
  if (err instanceof ApiError) return { index, name, error: err.toJSON().error };
  console.error(`Cannot score image ${index} "${name}":`, err);
  return {
    index,
    name,
    error: { code: "internal", message: `Cannot score image "${name}": internal error` },
  };
}
