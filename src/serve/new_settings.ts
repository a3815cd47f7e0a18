/**
 * Settings that may compile on demand are admitted one per model at a time. A request for a
 * setting never scored in this process (of a method with tunable settings, and not the model's
 * defaults, which compile when the model loads) may first compile its gradient graphs: tens of
 * seconds on a large model. Without a bound, a client could queue a compile of every one of the
 * ~160 setting combinations at once. A second new setting of the same model is refused (503
 * overloaded) until the first has been scored; the same new setting again queues behind it.
 * @module
 */
import { ApiError } from "../errors.ts";
import type { LoadedModel } from "../models/types.ts";
import type { ScoreSettings } from "../contract/scoring.ts";
import { METHOD_SETTINGS, settingsKey } from "../contract/settings.ts";
import type { DrainRate } from "./drain_rate.ts";

/** The batch key of a model and settings (as batcher.ts builds it). */
function keyOf(model: LoadedModel, settings: ScoreSettings): string {
  return `${model.id}\u0000${settingsKey(settings)}`;
}

/** Tracks outstanding new settings (see the module doc). */
export class NewSettings {
  /** Keys admitted as new; dropped when nothing of them is outstanding. */
  readonly #keys = new Set<string>();
  constructor(readonly rate: DrainRate) {}

  /** True for settings that may have to compile on demand (see the module doc). */
  isNew(model: LoadedModel, settings: ScoreSettings): boolean {
    return METHOD_SETTINGS[settings.method].uses.length > 0 &&
      settingsKey(settings) !== settingsKey(model.defaults) &&
      !this.rate.has(keyOf(model, settings));
  }

  /**
   * Refuses a new setting while another new setting of the same model is outstanding.
   * @param outstanding batch keys with admitted, unfinished images.
   * @param laneSeconds the model's queued work in seconds (for Retry-After).
   * @throws {ApiError} 503 overloaded.
   */
  assertAdmissible(
    model: LoadedModel,
    settings: ScoreSettings,
    outstanding: Iterable<string>,
    laneSeconds: () => number,
  ): void {
    if (!this.isNew(model, settings)) return;
    const key = keyOf(model, settings);
    const prefix = `${model.id}\u0000`;
    for (const k of outstanding) {
      if (k === key || !k.startsWith(prefix) || !this.#keys.has(k) || this.rate.has(k)) continue;
      const retry = Math.min(3600, Math.max(1, Math.ceil(laneSeconds())));
      throw new ApiError(
        503,
        "overloaded",
        `Cannot queue images with new settings for model "${model.id}": another new setting of ` +
          `this model is being compiled and scored first`,
        { "retry-after": String(retry) },
      );
    }
  }

  /** Records an admitted request's settings. */
  admitted(model: LoadedModel, settings: ScoreSettings): void {
    if (this.isNew(model, settings)) this.#keys.add(keyOf(model, settings));
  }

  /** Nothing of `key` is outstanding any more. */
  finished(key: string): void {
    this.#keys.delete(key);
  }
}
