/**
 * Questions about methods, answered from the one method table ({@link METHOD_SETTINGS}): which
 * are gradient methods, which are the A variant, whether α is a graph input, which split rule a
 * method follows, and how usage texts list them. Also the split-policy names, listed once.
 * @module
 */
import { type Method, METHODS, type ScoreSettings } from "./scoring.ts";
import { METHOD_SETTINGS, type SplitRule } from "./settings.ts";

/** Gradient methods of the A variant (gradient values near the head, docs/method.md). */
export type AMethod = "si_a" | "gaia_a";
/** Methods that differentiate the model at split tensors (kinds `Z` and `A`). */
export type GradientMethod = "si" | "gaia_z" | AMethod;

/** Methods scored from the logits alone (kind `forward`, src/si/baselines.ts). */
export type ForwardMethod = Exclude<Method, GradientMethod | "fused">;

/** Whether a method is S&I-A or GAIA-A. */
export function isAMethod(m: Method): m is AMethod {
  return METHOD_SETTINGS[m].kind === "A";
}

/** Whether a method uses gradients at split tensors. */
export function isGradientMethod(m: Method): m is GradientMethod {
  const kind = METHOD_SETTINGS[m].kind;
  return kind === "Z" || kind === "A";
}

/** Whether a method is scored from the logits alone. */
export function isForwardMethod(m: Method): m is ForwardMethod {
  return METHOD_SETTINGS[m].kind === "forward";
}

/** Whether a method is the combination of others through their calibrations (`fused`). */
export function isFusedMethod(m: Method): boolean {
  return METHOD_SETTINGS[m].kind === "fused";
}

/** Whether the graph for these (effective) settings reads α at run time rather than baking it in. */
export function alphaIsGraphInput(s: ScoreSettings): boolean {
  return METHOD_SETTINGS[s.method].alphaInput && s.iterations >= 2;
}

/** Which split tensors a method differentiates (see {@link SplitRule}). */
export function splitRule(m: Method): SplitRule {
  return METHOD_SETTINGS[m].splits;
}

/** Methods whose settings use α and T (the iterative ones), for labels and ablations. */
export function isIterative(m: Method): boolean {
  return METHOD_SETTINGS[m].kind !== "fused" && METHOD_SETTINGS[m].uses.includes("iterations");
}

/**
 * The methods as usage texts list them: names, comma-separated, each with its note in
 * parentheses when `notes`; `only` keeps some (e.g. those a command can compile).
 */
export function methodList(
  options: { readonly notes?: boolean; readonly only?: (m: Method) => boolean } = {},
): string {
  return METHODS.filter(options.only ?? (() => true)).map((m) => {
    const note = METHOD_SETTINGS[m].note;
    return options.notes && note ? `${m} (${note})` : m;
  }).join(", ");
}
