/**
 * The model manifest (`models/<id>/manifest.json`): schema, validation and defaults.
 * Validation reports every problem at once, each with its field path, so a user fixing a
 * hand-written manifest does not have to iterate one error at a time.
 * @module
 */
import { z } from "zod";
import { inputSchema, positiveInt, preprocessSchema } from "../image/spec.ts";
import { DEFAULT_SETTINGS, METHODS, SPLIT_POLICIES } from "../contract/scoring.ts";
import { isGradientMethod } from "../contract/methods.ts";
import { isFused } from "../contract/fusion.ts";
import { settingsSchema } from "../contract/settings.ts";

/** One component distribution of a `fused` calibration. */
const componentSchema = z.strictObject({
  method: z.enum(METHODS),
  scores: z.array(z.number()).min(1),
  count: positiveInt,
});

/** One stored calibration (see `Calibration` in types.ts). */
export const calibrationSchema = z.strictObject({
  method: z.enum(METHODS),
  settings: settingsSchema,
  threshold: z.number(),
  tpr: z.number().min(0).max(1),
  scores: z.array(z.number()).min(1),
  count: positiveInt,
  data: z.string(),
  created: z.string(),
  components: z.array(componentSchema).min(2).optional(),
}).superRefine((c, ctx) => {
  if (isFused(c) && !c.components) {
    ctx.addIssue({
      code: "custom",
      path: ["components"],
      message: 'required for method "fused" (re-run deno task calibrate --method fused)',
    });
  }
});

/**
 * What `fused` combines: one gradient method (scored in one pass, which also yields the energy
 * of the same logits) and energy.
 */
const fusionSchema = z.strictObject({
  components: z.tuple([z.enum(METHODS.filter(isGradientMethod)), z.literal("energy")]),
});

const splitsSchema = z.strictObject({
  policy: z.enum(SPLIT_POLICIES),
  names: z.array(z.string().min(1)).min(1).optional(),
  /** How many normalization outputs `last-normalization` keeps (default 10). */
  count: positiveInt.optional(),
  /** The pooled pre-head features of the A variant (si_a, gaia_a); found automatically if absent. */
  pooled: z.string().min(1).optional(),
}).superRefine((s, ctx) => {
  if (s.policy === "tensors" && !s.names) {
    ctx.addIssue({ code: "custom", path: ["names"], message: 'required when policy is "tensors"' });
  }
  if (s.count !== undefined && s.policy !== "last-normalization") {
    ctx.addIssue({
      code: "custom",
      path: ["count"],
      message: 'only allowed when policy is "last-normalization"',
    });
  }
});

const manifestBase = z.strictObject({
  name: z.string().min(1),
  description: z.string().default(""),
  labels: z.array(z.string().min(1), { error: "expected array of strings" }).min(1, {
    error: "expected at least 1 label",
  }),
  model: z.strictObject({
    /** File name inside the model directory. */
    file: z.string().regex(/^[A-Za-z0-9._-]+$/, { error: "expected a plain file name" }).refine(
      (f) => f !== "." && f !== "..",
      { error: "expected a plain file name" },
    ),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: "expected 64 lower-case hex digits" }),
    /** Graph input and output names. */
    input: z.string().min(1),
    output: z.string().min(1),
  }),
  input: inputSchema,
  preprocess: preprocessSchema,
  splits: splitsSchema,
  defaults: settingsSchema.default({ ...DEFAULT_SETTINGS }),
  calibration: z.array(calibrationSchema).default([]),
  /** Components of `fused` (default: `si_a` + energy when the default method is `si_a`, else `si`). */
  fusion: fusionSchema.optional(),
  provenance: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
});

/** The manifest schema. */
export const manifestSchema = manifestBase.superRefine((m, ctx) => {
  const p = m.preprocess;
  const outChannels = p.color === "gray" ? p.replicate : 3 * p.replicate;
  if (outChannels !== m.input.channels) {
    ctx.addIssue({
      code: "custom",
      path: ["preprocess", "replicate"],
      message: `gives ${outChannels} channels but input.channels is ${m.input.channels}`,
    });
  }
  checkSizes(m, ctx);
  for (const key of ["mean", "std"] as const) {
    const n = p[key].length;
    if (n !== 1 && n !== m.input.channels) {
      ctx.addIssue({
        code: "custom",
        path: ["preprocess", key],
        message: `expected 1 or ${m.input.channels} values, got ${n}`,
      });
    }
  }
});

/** Resize, crop and pad must give the input size; a crop must fit inside the resized image. */
function checkSizes(m: z.infer<typeof manifestBase>, ctx: z.RefinementCtx): void {
  const { resize, crop, pad } = m.preprocess;
  if (resize.shorter === undefined && (!resize.width || !resize.height)) return; // reported
  const issue = (path: string, message: string) =>
    ctx.addIssue({ code: "custom", path: ["preprocess", path], message });
  if (resize.shorter !== undefined && !crop) {
    return issue("crop", "required when resize gives the shorter side (the size varies)");
  }
  // With `shorter`, each side of the resized image is at least `shorter` pixels.
  const rh = resize.height ?? resize.shorter!, rw = resize.width ?? resize.shorter!;
  if (crop && (crop.height > rh || crop.width > rw)) {
    return issue("crop", `${crop.height}x${crop.width} does not fit in the resized ${rh}x${rw}`);
  }
  const h = (crop?.height ?? rh) + pad.top + pad.bottom;
  const w = (crop?.width ?? rw) + pad.left + pad.right;
  if (h !== m.input.height || w !== m.input.width) {
    const what = crop ? "crop plus pad" : "resize plus pad";
    issue(
      crop ? "crop" : "resize",
      `${what} gives ${h}x${w} but input is ${m.input.height}x${m.input.width}`,
    );
  }
}

/** A validated manifest with defaults filled in. */
export type Manifest = z.infer<typeof manifestSchema>;

/** Thrown when a manifest is invalid; `problems` lists every issue as "path: message". */
export class ManifestError extends Error {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(problems.map((p) => `${source}: ${p}`).join("\n"));
    this.name = "ManifestError";
    this.problems = problems;
  }
}

/**
 * Validates parsed JSON as a manifest; throws {@link ManifestError} listing every problem.
 *
 * @example Read a model's manifest, and what an invalid one reports
 * ```ts
 * import { ManifestError, parseManifest } from "./manifest.ts";
 *
 * const json = JSON.parse(await Deno.readTextFile("manifest.json"));
 * const manifest = parseManifest(json, "manifest.json");
 * const { height, width } = manifest.input;
 * console.log(`${manifest.name}: ${manifest.defaults.method}, input ${height}x${width}`);
 * try {
 *   parseManifest({ ...manifest, defaults: { method: "nope" } }, "broken.json");
 * } catch (e) {
 *   if (e instanceof ManifestError) console.log(e.problems[0]);
 * }
 * ```
 */
export function parseManifest(json: unknown, source: string): Manifest {
  const r = manifestSchema.safeParse(json);
  if (r.success) return r.data;
  throw new ManifestError(source, r.error.issues.map((i) => `${formatPath(i.path)}: ${tidy(i)}`));
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  return path.map((k, i) => typeof k === "number" ? `[${k}]` : `${i === 0 ? "" : "."}${String(k)}`)
    .join("");
}

function tidy(issue: { message: string }): string {
  // zod's default messages start with "Invalid input: " — redundant next to a field path.
  return issue.message.replace(/^Invalid (input|option): /, "");
}

/** The model's input dims [C, H, W] as the manifest declares them (the engine's `inputDims`). */
export function inputDimsOf(m: Pick<Manifest, "input">): readonly [number, number, number] {
  return [m.input.channels, m.input.height, m.input.width];
}
