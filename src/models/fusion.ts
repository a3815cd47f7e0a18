/**
 * Scoring `fused` (what it combines and the one pass that yields it: `src/contract/fusion.ts`):
 * S&I (or another gradient method) and energy combined through their calibration p-values with
 * Fisher's method, score = ln p_gradient + ln p_energy (higher = more in-distribution). The
 * p-values need the model's calibration, so `fused` is scored here, around the engine, rather than
 * inside it; this module also says whether a model can score `fused` at all.
 * @module
 */
import { findCalibration, pValue } from "./calibration.ts";
import type { Manifest } from "./manifest.ts";
import type { Calibration, ComponentDistribution, LoadedModel } from "./types.ts";
import type {
  ComponentScore,
  ImageScore,
  InputBatch,
  ScoreCallOptions,
  Scorer,
  ScoreSettings,
} from "../contract/scoring.ts";
import { componentValues, fusionComponents, isFused, passSettings } from "../contract/fusion.ts";

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

/** A `fused` calibration: one with component distributions. */
type FusedCalibration = Calibration & { components: readonly ComponentDistribution[] };

/** The calibration if it is a `fused` one, else a {@link NotCalibratedError} for the model. */
function requireFused(cal: Calibration | undefined, model: string): FusedCalibration {
  if (!cal?.components) throw new NotCalibratedError(model);
  return cal as FusedCalibration;
}

/** The `fused` calibration matching the settings, with its component distributions, or throws. */
export function fusedCalibration(
  list: readonly Calibration[],
  settings: ScoreSettings,
  model: string,
): FusedCalibration {
  return requireFused(findCalibration(list, { ...settings, method: "fused" }), model);
}

/**
 * The component distributions of the model's `fused` calibration for these settings; throws a
 * {@link NotCalibratedError} when it has none.
 */
export function fusedDistributions(
  model: Pick<LoadedModel, "id" | "calibrationFor">,
  settings: ScoreSettings,
): readonly ComponentDistribution[] {
  return requireFused(model.calibrationFor({ ...settings, method: "fused" }), model.id).components;
}

/**
 * Why the model cannot score these settings at all, known before any image is read: `fused`
 * without its calibration. Undefined when it can.
 */
export function fusionRefusal(
  model: Pick<LoadedModel, "id" | "calibrationFor">,
  settings: ScoreSettings,
): NotCalibratedError | undefined {
  if (!isFused(settings)) return undefined;
  return model.calibrationFor(settings)?.components ? undefined : new NotCalibratedError(model.id);
}

/**
 * Wraps a model's scorer so that it also scores `fused`: one pass of the gradient component,
 * then the p-values against the manifest's `fused` calibration. Other methods pass through.
 */
export function withFusion(inner: Scorer, manifest: Manifest, model: string): Scorer {
  const components = fusionComponents(manifest);
  return {
    splits: (settings) => inner.splits(passSettings(settings, manifest)),
    async score(
      batch: InputBatch,
      settings: ScoreSettings,
      options?: ScoreCallOptions,
    ): Promise<ImageScore[]> {
      if (!isFused(settings)) return inner.score(batch, settings, options);
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
      const raw = await inner.score(batch, passSettings(settings, manifest), options);
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
