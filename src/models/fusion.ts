/**
 * The `fused` method: S&I (or another gradient method) and energy combined through their
 * calibration p-values with Fisher's method, score = ln p_gradient + ln p_energy (higher = more
 * in-distribution). Both components come from ONE scoring pass: the gradient graph also outputs
 * the energy of its own logits. The p-values need the model's calibration, so `fused` is scored
 * here, around the engine, rather than inside it.
 * @module
 */
import { findCalibration, pValue } from "./calibration.ts";
import type { Manifest } from "./manifest.ts";
import type { Calibration, ComponentDistribution } from "./types.ts";
import type {
  ComponentScore,
  ImageScore,
  InputBatch,
  ScoreCallOptions,
  Scorer,
  ScoreSettings,
} from "../contract/scoring.ts";
import { componentSettings, type FusionComponents, fusionComponents } from "../contract/fusion.ts";

export { componentSettings, type FusionComponents, fusionComponents };

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

/**
 * Fisher's combination of the components' p-values: Σ ln p_j, each p_j from {@link pValue}
 * against the component's calibration scores. At most 0; 2·ln(1/(n+1)) below every ID score.
 */
export function fuse(
  distributions: readonly ComponentDistribution[],
  values: readonly number[],
): { score: number; components: ComponentScore[] } {
  const components = distributions.map((d, j) => ({
    method: d.method,
    score: values[j],
    p_value: pValue(d.scores, values[j]),
  }));
  return { score: components.reduce((s, c) => s + Math.log(c.p_value), 0), components };
}

/** Thrown when `fused` is asked of a model without a matching `fused` calibration. */
export class NotCalibratedError extends Error {
  constructor(model: string) {
    super(
      `Cannot score "fused" with model "${model}": its manifest has no "fused" calibration for ` +
        `these settings (component score distributions); run deno task calibrate --method fused`,
    );
    this.name = "NotCalibratedError";
  }
}

/** The `fused` calibration matching the settings, with its component distributions, or throws. */
export function fusedCalibration(
  list: readonly Calibration[],
  settings: ScoreSettings,
  model: string,
): Calibration & { components: readonly ComponentDistribution[] } {
  const cal = findCalibration(list, { ...settings, method: "fused" });
  if (!cal?.components) throw new NotCalibratedError(model);
  return cal as Calibration & { components: readonly ComponentDistribution[] };
}

/**
 * Wraps a model's scorer so that it also scores `fused`: one pass of the gradient component,
 * then the p-values against the manifest's `fused` calibration. Other methods pass through.
 */
export function withFusion(inner: Scorer, manifest: Manifest, model: string): Scorer {
  const components = fusionComponents(manifest);
  return {
    splits: (settings) =>
      inner.splits(
        settings.method === "fused" ? componentSettings(settings, components) : settings,
      ),
    async score(
      batch: InputBatch,
      settings: ScoreSettings,
      options?: ScoreCallOptions,
    ): Promise<ImageScore[]> {
      if (settings.method !== "fused") return inner.score(batch, settings, options);
      const cal = fusedCalibration(manifest.calibration, settings, model);
      const names = cal.components.map((c) => c.method).join(" + ");
      if (names !== components.join(" + ")) {
        throw new Error(
          `Cannot score "fused" with model "${model}": its calibration combines ${names} but the ` +
            `manifest asks for ${
              components.join(" + ")
            }; re-run deno task calibrate --method fused`,
        );
      }
      const raw = await inner.score(batch, componentSettings(settings, components), options);
      return raw.map((r) => {
        const f = fuse(cal.components, componentValues(r, components));
        return {
          score: f.score,
          class: r.class,
          confidence: r.confidence,
          ...(r.layers ? { layers: r.layers } : {}),
          components: f.components,
        };
      });
    },
  };
}
