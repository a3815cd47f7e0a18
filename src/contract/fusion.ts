/**
 * Which methods the `fused` score combines, and the one pass that yields them: pure functions of
 * the manifest shared by the engine (warm-up) and `src/models/fusion.ts` (scoring around it).
 * @module
 */
import { isAMethod } from "./methods.ts";
import type { Method, ScorerManifest, ScoreSettings } from "./scoring.ts";

/** The two methods `fused` combines: a gradient method, then energy. */
export type FusionComponents = readonly [Method, "energy"];

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

/** The settings of the one pass that yields every component. */
export function componentSettings(
  settings: ScoreSettings,
  components: FusionComponents,
): ScoreSettings {
  return { ...settings, method: components[0] };
}
