/**
 * The one definition of scoring settings: limits, the zod schemas (manifests, CLI flags, query
 * parameters and direct calls all validate against them), and which settings each method's
 * score depends on — from which the canonical settings and their key (compile cache, session
 * cache, calibration matching, batch grouping) are derived.
 *
 * Adding a method: add it to `METHODS` (scoring.ts) and give it a row in {@link METHOD_SETTINGS},
 * the method table every method check derives from (src/contract/methods.ts).
 * @module
 */
import { z } from "zod";
import {
  type AdvLoss,
  DEFAULT_SETTINGS,
  type Integration,
  type Method,
  METHODS,
  type ScoreSettings,
} from "./scoring.ts";

/** The tunable settings (everything but the method). */
export type SettingName = Exclude<keyof ScoreSettings, "method">;

/** Adversarial losses, in the order usage texts list them. */
export const LOSSES: readonly AdvLoss[] = ["ce", "max"];
/** Gradient integrations, in the order usage texts list them. */
export const INTEGRATIONS: readonly Integration[] = ["add", "multiply"];

/** Inclusive bounds of α (the lower bound is exclusive: α > 0) and T. */
export const LIMITS = {
  alpha: { min: 0, max: 100 },
  iterations: { min: 1, max: 10 },
} as const;

/** What each setting accepts, in words (messages of every front end use these). */
export const EXPECTED: Readonly<Record<keyof ScoreSettings, string>> = {
  method: `one of ${METHODS.join(", ")}`,
  alpha: `a number in (${LIMITS.alpha.min}, ${LIMITS.alpha.max}]`,
  iterations: `an integer from ${LIMITS.iterations.min} to ${LIMITS.iterations.max}`,
  loss: `one of ${LOSSES.join(", ")}`,
  integrate: `one of ${INTEGRATIONS.join(", ")}`,
};

/**
 * What kind of score a method computes: from the logits alone (`forward`, the output-based
 * baselines of src/si/baselines.ts), from zero fractions of gradients at the splits (`Z`: S&I,
 * GAIA-Z), from gradient values near the head (`A`: S&I-A, GAIA-A), or by combining other methods
 * through their calibrations (`fused`).
 */
export type MethodKind = "forward" | "Z" | "A" | "fused";

/**
 * Which split tensors a method differentiates: the manifest's policy (`policy`), every
 * normalization output whatever the manifest says (`normalization`), the A variant's splits
 * (`a-variant`, src/si/splits.ts `aVariantSplits`), its gradient component's (`component`), or
 * none.
 */
export type SplitRule = "policy" | "normalization" | "a-variant" | "component" | "none";

/** One row of the method table: what a method is and how its score depends on the settings. */
export interface MethodSettings {
  readonly kind: MethodKind;
  /** Whether α is a graph input (fed at run time, so every α shares one graph) when T ≥ 2. */
  readonly alphaInput: boolean;
  readonly splits: SplitRule;
  /** Settings the score depends on; the others are ignored and do not split caches. */
  readonly uses: readonly SettingName[];
  /** Values the method's graph always uses for settings it ignores (e.g. GAIA-Z runs T = 1). */
  readonly fixed?: Partial<Record<SettingName, number | string>>;
  /** What usage texts say after the name, when the name alone does not suffice. */
  readonly note?: string;
}

/** The settings S&I's iterations depend on. */
const ITERATED: readonly SettingName[] = ["alpha", "iterations", "loss", "integrate"];
const FORWARD: MethodSettings = { kind: "forward", alphaInput: false, splits: "none", uses: [] };

/**
 * The method table: per method, its kind, its splits, whether α is a graph input and the
 * settings that matter. A new method declares itself here; every method check, cache key,
 * calibration match, batch group and usage text follows (src/contract/methods.ts).
 */
export const METHOD_SETTINGS: Readonly<Record<Method, MethodSettings>> = {
  si: { kind: "Z", alphaInput: true, splits: "policy", uses: ITERATED },
  si_a: { kind: "A", alphaInput: true, splits: "a-variant", uses: ITERATED },
  // GAIA-Z and GAIA-A are the t = 0 term alone: one backward pass, no step, no loss choice.
  gaia_z: {
    kind: "Z",
    alphaInput: false,
    splits: "normalization",
    uses: [],
    fixed: { iterations: 1 },
  },
  gaia_a: { kind: "A", alphaInput: false, splits: "a-variant", uses: [], fixed: { iterations: 1 } },
  msp: FORWARD,
  maxlogit: FORWARD,
  energy: FORWARD,
  gradnorm: FORWARD,
  // `fused` runs its gradient component (S&I or S&I-A) under these settings.
  fused: {
    kind: "fused",
    alphaInput: false,
    splits: "component",
    uses: ITERATED,
    note: "S&I + energy p-values; needs a fused calibration",
  },
};

/** Values of ignored settings in canonical settings (α 0 and T 0 mark "not used"). */
const IGNORED: Readonly<Record<SettingName, number | string>> = {
  alpha: 0,
  iterations: 0,
  loss: "ce",
  integrate: "add",
};

const field = {
  method: z.enum(METHODS, { error: EXPECTED.method }),
  alpha: z.number({ error: EXPECTED.alpha }).gt(LIMITS.alpha.min, { error: EXPECTED.alpha })
    .max(LIMITS.alpha.max, { error: EXPECTED.alpha }),
  iterations: z.number({ error: EXPECTED.iterations }).int({ error: EXPECTED.iterations })
    .min(LIMITS.iterations.min, { error: EXPECTED.iterations })
    .max(LIMITS.iterations.max, { error: EXPECTED.iterations }),
  loss: z.enum(LOSSES, { error: EXPECTED.loss }),
  integrate: z.enum(INTEGRATIONS, { error: EXPECTED.integrate }),
};

/** Complete settings, every field required. */
export const scoreSettingsSchema = z.strictObject(field);

/** Settings as stored in manifests: missing fields take the authors' defaults. */
export const settingsSchema = z.strictObject({
  method: field.method.default(DEFAULT_SETTINGS.method),
  alpha: field.alpha.default(DEFAULT_SETTINGS.alpha),
  iterations: field.iterations.default(DEFAULT_SETTINGS.iterations),
  loss: field.loss.default(DEFAULT_SETTINGS.loss),
  integrate: field.integrate.default(DEFAULT_SETTINGS.integrate),
});

/** An invalid setting; `setting` names it, the message says what was expected and what came. */
export class SettingsError extends RangeError {
  readonly setting: keyof ScoreSettings;
  /** What the setting accepts, e.g. "an integer from 1 to 10". */
  readonly expected: string;
  constructor(setting: keyof ScoreSettings, got: unknown) {
    const shown = typeof got === "string" ? `"${got.slice(0, 64)}"` : String(got);
    super(`${setting} must be ${EXPECTED[setting]}, got ${shown}`);
    this.name = "SettingsError";
    this.setting = setting;
    this.expected = EXPECTED[setting];
  }
}

/** Returns the settings if valid; throws a {@link SettingsError} naming the first bad one. */
export function validateSettings(s: ScoreSettings): ScoreSettings {
  const r = scoreSettingsSchema.safeParse(s);
  if (r.success) return r.data;
  const key = String(r.error.issues[0].path[0] ?? "method") as keyof ScoreSettings;
  throw new SettingsError(
    key in EXPECTED ? key : "method",
    (s as unknown as Record<string, unknown>)[key],
  );
}

/** Whether a single setting value is valid (e.g. one α of an ablation list). */
export function isValidSetting(setting: keyof ScoreSettings, value: unknown): boolean {
  return field[setting].safeParse(value).success;
}

/** A decimal number written plainly ("0.001", "1e-3", "2"); anything else is NaN. */
function parseNumber(text: string): number {
  return /^[+]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? Number(text) : Number.NaN;
}

/**
 * Applies settings given as text (query parameters, command-line flags) over `base`: numbers are
 * parsed strictly ("1e-3" yes, "" or "2x" no). Throws a {@link SettingsError} naming the first
 * bad one.
 */
export function settingsFromText(
  text: Partial<Record<keyof ScoreSettings, string>>,
  base: ScoreSettings,
): ScoreSettings {
  const merged: Record<string, unknown> = { ...base };
  for (const key of Object.keys(EXPECTED) as (keyof ScoreSettings)[]) {
    const raw = text[key];
    if (raw === undefined) continue;
    const value = key === "alpha" || key === "iterations" ? parseNumber(raw) : raw;
    if (!field[key].safeParse(value).success) throw new SettingsError(key, raw);
    merged[key] = value;
  }
  return merged as unknown as ScoreSettings;
}

/**
 * The settings as the method sees them: settings it ignores take fixed or neutral values, so two
 * requests that must give the same scores have equal canonical settings.
 */
export function canonicalSettings(s: ScoreSettings): ScoreSettings {
  const spec = METHOD_SETTINGS[s.method];
  const out: Record<string, unknown> = { method: s.method };
  for (const key of Object.keys(IGNORED) as SettingName[]) {
    out[key] = spec.uses.includes(key) ? s[key] : spec.fixed?.[key] ?? IGNORED[key];
  }
  return out as unknown as ScoreSettings;
}

/** A string identifying the canonical settings (equal keys ⇔ equal scores for a model). */
export function settingsKey(s: ScoreSettings): string {
  return JSON.stringify(canonicalSettings(s));
}

/** The settings a method's score depends on (what calibrations must match). */
export function relevantSettings(method: Method): readonly SettingName[] {
  return METHOD_SETTINGS[method].uses;
}
