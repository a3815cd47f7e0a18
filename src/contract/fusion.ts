/**
 * What `fused` means, in one place: which methods it combines (a gradient method, then energy),
 * that ONE pass of the gradient method yields every component (its graph also outputs the energy
 * of its own logits), and how a result of that pass gives the component values. Everything that
 * meets `fused` asks here: the engine (warm-up), the scorer wrapped around it and the p-values
 * (`src/models/fusion.ts`), calibration (`src/models/calibrate_run.ts`) and evaluation.
 * @module
 */
import { isAMethod, isFusedMethod } from "./methods.ts";
import type { ImageScore, Method, ScorerManifest, ScoreSettings } from "./scoring.ts";

/** The two methods `fused` combines: a gradient method, then energy. */
export type FusionComponents = readonly [Method, "energy"];

/** Whether these settings ask for the `fused` score. */
export function isFused(settings: Pick<ScoreSettings, "method">): boolean {
  return isFusedMethod(settings.method);
}

/**
 * The components of a model's `fused` score: the manifest's `fusion.components`, else `si_a` for
 * A-variant models (default method `si_a` or `gaia_a`) and `si` otherwise; energy always second.
 */
export function fusionComponents(
  manifest: Pick<ScorerManifest, "fusion" | "defaults">,
): FusionComponents {
  if (manifest.fusion) return manifest.fusion.components;
  return [isAMethod(manifest.defaults.method) ? "si_a" : "si", "energy"];
}

/**
 * The settings of the one scoring pass that yields `settings`' scores: for `fused`, its gradient
 * component under the same α, T, loss and integration; any other settings are their own pass.
 */
export function passSettings(
  settings: ScoreSettings,
  manifest: Pick<ScorerManifest, "fusion" | "defaults">,
): ScoreSettings {
  return isFused(settings) ? { ...settings, method: fusionComponents(manifest)[0] } : settings;
}

/** The component values of one result of that pass, in component order. */
export function componentValues(r: ImageScore, components: FusionComponents): number[] {
  if (r.energy === undefined) {
    throw new Error(
      `Cannot score "fused": method "${
        components[0]
      }" gave no energy output (stale compiled graph?)`,
    );
  }
  return [r.score, r.energy];
}
