/**
 * Query parameters of the score route → validated `ScoreSettings` (limits and messages come
 * from the one settings definition, `src/contract/settings.ts`).
 * @module
 */
import { ApiError } from "../errors.ts";
import type { ScoreSettings } from "../contract/scoring.ts";
import { SettingsError, settingsFromText } from "../contract/settings.ts";

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
