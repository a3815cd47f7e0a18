/**
 * Query parameters of the score route → validated `ScoreSettings` (limits and messages come
 * from the one settings definition, `src/contract/settings.ts`).
 * @module
 */
import { ApiError } from "../errors.ts";
import type { ScoreSettings } from "../contract/scoring.ts";
import {
  METHOD_SETTINGS,
  SettingsError,
  settingsFromText,
  settingsKey,
} from "../contract/settings.ts";
import type { Config } from "../config.ts";
import type { LoadedModel } from "../models/types.ts";

const NAMES = ["method", "alpha", "iterations", "loss", "integrate"] as const;

/**
 * Applies `method`, `alpha`, `iterations`, `loss` and `integrate` from the query over `defaults`.
 * @throws {ApiError} 400 bad_parameter naming the offending parameter.
 */
export function parseSettings(query: URLSearchParams, defaults: ScoreSettings): ScoreSettings {
  const text: Partial<Record<keyof ScoreSettings, string>> = {};
  for (const name of NAMES) {
    const v = query.get(name);
    if (v !== null) text[name] = v;
  }
  try {
    return settingsFromText(text, defaults);
  } catch (e) {
    if (!(e instanceof SettingsError)) throw e;
    const got = String(text[e.setting]).slice(0, 64);
    throw new ApiError(
      400,
      "bad_parameter",
      `Invalid parameter "${e.setting}": expected ${e.expected}, got "${got}"`,
    );
  }
}

/**
 * The request's deadline in seconds from the `X-Request-Timeout` header (a positive number of
 * seconds), capped at `max`; `max` when the header is absent.
 * @throws {ApiError} 400 bad_parameter when the header is not a positive number.
 */
export function parseTimeout(raw: string | null, max: number): number {
  if (raw === null) return max;
  const s = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(s) || s <= 0) {
    throw new ApiError(
      400,
      "bad_parameter",
      `Invalid header "X-Request-Timeout": expected a positive number of seconds, got "${
        raw.slice(0, 64)
      }"`,
    );
  }
  return Math.min(s, max);
}

/**
 * The settings policy (docs/reliability.md, "Settings policy"): `iterations` up to
 * `MAX_ITERATIONS`, and with `ON_DEMAND_SETTINGS=calibrated` only a model's default settings and
 * those it has a calibration for (their graphs are compiled ahead; nothing compiles on demand).
 * @throws {ApiError} 400 bad_parameter naming the refused setting.
 */
export function assertSettingsAllowed(
  model: LoadedModel,
  settings: ScoreSettings,
  config: Pick<Config, "maxIterations" | "onDemandSettings">,
): void {
  const isDefault = settingsKey(settings) === settingsKey(model.defaults);
  const usesT = METHOD_SETTINGS[settings.method].uses.includes("iterations");
  if (usesT && !isDefault && settings.iterations > config.maxIterations) {
    throw new ApiError(
      400,
      "bad_parameter",
      `Invalid parameter "iterations": this service allows at most ${config.maxIterations} ` +
        `(MAX_ITERATIONS), got "${settings.iterations}"`,
    );
  }
  if (config.onDemandSettings !== "calibrated") return;
  const known = isDefault || model.calibrationFor(settings) !== undefined;
  if (!known) {
    throw new ApiError(
      400,
      "bad_parameter",
      `Invalid parameters: model "${model.id}" is served only with its default settings and ` +
        `the settings it is calibrated for (ON_DEMAND_SETTINGS=calibrated)`,
    );
  }
}
