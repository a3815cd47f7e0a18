/**
 * Wire types of the S&I OOD service API, as the client sees them.
 * Deliberately self-contained (no imports from the service) so the client can be copied into an
 * edge function or a browser bundle on its own.
 * @module
 */

/** Scoring methods the service offers. `si` is the product's method; the others are baselines. */
export type Method = "si" | "gaia_z" | "msp" | "maxlogit" | "energy" | "gradnorm";

/** Machine-readable error codes used by the API. Unknown future codes pass through as strings. */
export type ErrorCode =
  | "bad_request"
  | "bad_parameter"
  | "unauthorized"
  | "not_found"
  | "method_not_allowed"
  | "payload_too_large"
  | "image_too_large"
  | "unsupported_media_type"
  | "corrupt_image"
  | "overloaded"
  | "shutting_down"
  | "internal"
  // Keeps autocompletion for the known codes while accepting new ones.
  | (string & Record<never, never>);

/** The verdict for one scored image (one NDJSON line). */
export interface ScoreLine {
  /** Position of the image in the request. */
  readonly index: number;
  /** File name (multipart) or a generated name. */
  readonly name: string;
  /** OOD score; higher = more in-distribution. */
  readonly score: number;
  /** True when the score falls below the calibrated threshold; null when the model has no calibration. */
  readonly ood: boolean | null;
  /** The calibrated threshold (95 % of ID images score at or above it); null without calibration. */
  readonly threshold: number | null;
  /** Share of calibration ID scores at or below this score; null without calibration. */
  readonly p_value: number | null;
  /** Predicted class index. */
  readonly class: number;
  /** Human-readable label of the predicted class. */
  readonly label: string;
  /** Softmax probability of the predicted class. */
  readonly confidence: number;
  /** The method that produced the score. */
  readonly method: Method;
  /** Gradient methods only: per split layer, the mean of squared channel fractions. */
  readonly layers?: readonly number[];
}

/** An image of the request that could not be scored (the others still are). */
export interface ErrorLine {
  readonly index: number;
  readonly name: string;
  readonly error: { readonly code: ErrorCode; readonly message: string };
}

/** One per-image line of a score stream. */
export type ResultLine = ScoreLine | ErrorLine;

/** The final line of a score stream. Only loosely typed: the service may add fields. */
export interface ScoreSummary {
  readonly [key: string]: unknown;
}

/** A calibration of one method/settings, as listed by the models endpoints. */
export interface CalibrationInfo {
  readonly method: Method;
  readonly settings?: Readonly<Record<string, unknown>>;
  /** Score threshold keeping 95 % of ID images. */
  readonly threshold: number;
  readonly tpr?: number;
  /** Sorted ID scores (or evenly spaced quantiles of them). */
  readonly scores: readonly number[];
  readonly count?: number;
  readonly data?: string;
  readonly created?: string;
}

/** A model as listed by `GET /v1/models`. Extra fields the service adds are kept. */
export interface ModelInfo {
  readonly id: string;
  readonly backend?: string;
  readonly labels?: readonly string[];
  readonly manifest?: Readonly<Record<string, unknown>>;
  readonly calibration?: readonly CalibrationInfo[];
  readonly [key: string]: unknown;
}

/** An image to upload: raw bytes, a Blob/File, or bytes with an explicit name and media type. */
export type ImageInput =
  | Blob
  | Uint8Array
  | { readonly name?: string; readonly data: Blob | Uint8Array; readonly type?: string };

/** Per-request overrides of the model's default scoring settings. */
export interface ScoreOptions {
  readonly method?: Method;
  /** S&I step size α. */
  readonly alpha?: number;
  /** S&I iterations T. */
  readonly iterations?: number;
  readonly loss?: "ce" | "max";
  readonly integrate?: "add" | "multiply";
  /** Aborts the request and the remaining scoring on the server. */
  readonly signal?: AbortSignal;
}

/** True when the line reports a per-image error rather than a score. */
export function isErrorLine(line: ResultLine): line is ErrorLine {
  return "error" in line;
}
