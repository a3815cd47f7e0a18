/**
 * Wire types of the S&I OOD service API, as the client sees them.
 * Deliberately self-contained (no imports from the service) so the client can be copied into an
 * edge function or a browser bundle on its own.
 * @module
 */

/**
 * Scoring methods the service offers. `si` is the product's method; `fused` combines S&I (or
 * S&I-A) and energy through their calibration p-values; the others are baselines.
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

/** The error codes this client knows (tests/client/wire_types_test.ts keeps them in step). */
export const ERROR_CODES = [
  "bad_request",
  "bad_parameter",
  "unauthorized",
  "not_found",
  "method_not_allowed",
  "url_too_long",
  "payload_too_large",
  "image_too_large",
  "unsupported_media_type",
  "corrupt_image",
  "overloaded",
  "timeout",
  "shutting_down",
  "not_ready",
  "not_calibrated",
  "internal",
] as const;
/** A known error code. */
export type KnownErrorCode = typeof ERROR_CODES[number];

/** Machine-readable error codes used by the API. Unknown future codes pass through as strings. */
export type ErrorCode =
  | KnownErrorCode
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
  /**
   * (calibration ID scores at or below this score + 1) / (n + 1); null without calibration.
   */
  readonly p_value: number | null;
  /** Predicted class index. */
  readonly class: number;
  /** Human-readable label of the predicted class; null when the model has no label for it. */
  readonly label: string | null;
  /** Softmax probability of the predicted class. */
  readonly confidence: number;
  /** The method that produced the score. */
  readonly method: Method;
  /** Gradient methods only: per split layer, the mean of squared channel fractions. */
  readonly layers?: readonly number[];
  /** `fused` only: each component's score and p-value (the score is Σ ln p_value). */
  readonly components?: readonly ComponentScore[];
}

/** One component of a `fused` score. */
export interface ComponentScore {
  readonly method: Method;
  readonly score: number;
  /** (calibration ID scores of this component at or below `score` + 1) / (n + 1). */
  readonly p_value: number;
}

/** An image of the request that could not be scored (the others still are). */
export interface ErrorLine {
  readonly index: number;
  readonly name: string;
  readonly error: { readonly code: ErrorCode; readonly message: string };
}

/** One per-image line of a score stream. */
export type ResultLine = ScoreLine | ErrorLine;

/**
 * Bounds the service accepts for α and T: α in (min, max] (exclusive below: α = 0 takes no
 * step), T an integer in [min, max]. Anything else is a 400 `invalid_parameter`.
 */
export const SETTING_LIMITS = {
  alpha: { min: 0, max: 100 },
  iterations: { min: 1, max: 10 },
} as const;

/**
 * Why a step size α given as text would be refused by the service, or undefined when it is
 * accepted; empty text means "the model's default".
 */
export function alphaProblem(text: string): string | undefined {
  if (text.trim() === "") return undefined;
  const { min, max } = SETTING_LIMITS.alpha;
  const alpha = Number(text);
  return alpha > min && alpha <= max
    ? undefined
    : `Invalid parameter "alpha": expected a number in (${min}, ${max}], got "${text}"`;
}

/** Scoring settings as the service reports them. */
export interface Settings {
  readonly method: Method;
  readonly alpha: number;
  readonly iterations: number;
  readonly loss: "ce" | "max";
  readonly integrate: "add" | "multiply";
}

/** The final line of a score stream. The service may add fields; they are kept. */
export interface ScoreSummary {
  readonly model: string;
  readonly method: Method;
  readonly settings: Settings;
  /** Whether a calibration matched the settings (else `ood`/`threshold`/`p_value` are null). */
  readonly calibrated: boolean;
  /** Images in the request. */
  readonly images: number;
  readonly scored: number;
  readonly errors: number;
  /** Images flagged OOD. */
  readonly ood: number;
  /** Milliseconds from request to summary. */
  readonly ms: number;
  readonly [key: string]: unknown;
}

/** A calibration of one method/settings on held-out ID data. */
export interface CalibrationInfo {
  readonly method: Method;
  readonly settings: Settings;
  /** Score threshold keeping 95 % of ID images (lower scores are flagged OOD). */
  readonly threshold: number;
  /** Share of ID data accepted at the threshold. */
  readonly tpr: number;
  /** Sorted ID scores (or evenly spaced quantiles of them). */
  readonly scores: readonly number[];
  readonly count: number;
  /** Description of the data used, e.g. "fmnist:test[5000:10000]". */
  readonly data: string;
  readonly created: string;
  /**
   * `fused` only: each component's sorted ID scores, for its p-values. `threshold` and `scores`
   * then describe the fused score.
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

/** A model as listed by `GET /v1/models`. Extra fields the service adds are kept. */
export interface ModelSummary {
  readonly id: string;
  /** onnxruntime backend in use: wasm, webgpu or native. */
  readonly backend: string;
  /** Input dims [C, H, W]. */
  readonly input: readonly number[];
  /** Number of classes. */
  readonly classes: number;
  readonly defaults: Settings;
  /** Whether the default settings have a calibration. */
  readonly calibrated: boolean;
  readonly [key: string]: unknown;
}

/** A model in detail, from `GET /v1/models/{id}`. */
export interface ModelInfo extends ModelSummary {
  readonly labels: readonly string[];
  /** The model's manifest as stored on disk. */
  readonly manifest: Readonly<Record<string, unknown>>;
  /** Calibration of the default settings, or null. */
  readonly calibration: CalibrationInfo | null;
  /** Every calibration available under the default settings, one per method at most. */
  readonly calibrations: readonly CalibrationInfo[];
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
  /**
   * Deadline in seconds (sent as `X-Request-Timeout`, capped by the service): images not scored
   * by then arrive as error lines with code `timeout`.
   */
  readonly timeoutSeconds?: number;
}

/** True when the line reports a per-image error rather than a score. */
export function isErrorLine(line: ResultLine): line is ErrorLine {
  return "error" in line;
}
