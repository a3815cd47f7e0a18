/**
 * Running a calibration: score ID images with a loaded model and store the result in its
 * manifest. The scorer comes with the model, so this works with any ScorerFactory.
 * @module
 */
import { join } from "node:path";
import type { DecodedImage } from "../image/types.ts";
import type { ImageScore, ScoreSettings } from "../contract/scoring.ts";
import { buildCalibration, upsertCalibration } from "./calibration.ts";
import { componentValues, fusionComponents, isFused, passSettings } from "../contract/fusion.ts";
import { buildFusedCalibration } from "./fusion_calibration.ts";
import { parseManifest } from "./manifest.ts";
import type { Calibration, LoadedModel } from "./types.ts";

/** One image to score. */
export interface NamedImage {
  readonly name: string;
  readonly image: DecodedImage;
}

/** Options of {@link scoreImages}. */
export interface ScoreImagesOptions {
  /** Images per scorer call. */
  readonly batch: number;
  /** Stop after this many images. */
  readonly limit?: number;
  /** Called after each batch with the number scored so far. */
  readonly onProgress?: (done: number) => void;
}

/** Pre-processes and scores images in batches, in input order; returns the scores. */
export async function scoreImages(
  model: LoadedModel,
  images: AsyncIterable<NamedImage>,
  settings: ScoreSettings,
  opts: ScoreImagesOptions,
): Promise<number[]> {
  return (await scoreImageResults(model, images, settings, opts)).map((r) => r.score);
}

/** Like {@link scoreImages}, but returns the whole result of each image. */
export async function scoreImageResults(
  model: LoadedModel,
  images: AsyncIterable<NamedImage>,
  settings: ScoreSettings,
  opts: ScoreImagesOptions,
): Promise<ImageScore[]> {
  const [c, h, w] = model.inputDims;
  const per = c * h * w;
  const scores: ImageScore[] = [];
  let pending: Float32Array[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const data = new Float32Array(pending.length * per);
    pending.forEach((x, i) => data.set(x, i * per));
    const results = await model.scorer.score({ data, dims: [pending.length, c, h, w] }, settings);
    if (results.length !== pending.length) {
      throw new Error(`Scorer returned ${results.length} results for ${pending.length} images`);
    }
    const failed = results.find((r) => r.error);
    if (failed) throw new Error(`Cannot calibrate on this data: ${failed.error}`);
    scores.push(...results);
    pending = [];
    opts.onProgress?.(scores.length);
  };
  const limit = opts.limit ?? Infinity;
  let seen = 0;
  for await (const item of images) {
    if (seen >= limit) break;
    seen++;
    pending.push(model.preprocess(item.image));
    if (pending.length >= opts.batch) await flush();
  }
  await flush();
  return scores;
}

/**
 * Scores the ID images and builds the calibration record. For `fused`, one pass of its gradient
 * component yields every component score, and the record holds their distributions
 * (`buildFusedCalibration`).
 */
export async function calibrateModel(
  model: LoadedModel,
  images: AsyncIterable<NamedImage>,
  settings: ScoreSettings,
  opts: ScoreImagesOptions & {
    readonly data: string;
    readonly created?: string;
    /** `fused` only: receives the per-image component values (e.g. to compare fitting schemes). */
    readonly onRows?: (rows: readonly (readonly number[])[]) => void;
  },
): Promise<Calibration> {
  const created = opts.created ?? new Date().toISOString();
  if (isFused(settings)) {
    const rows = await fusedRows(model, images, settings, opts);
    opts.onRows?.(rows);
    const components = fusionComponents(model.manifest);
    return buildFusedCalibration({ settings, components, rows, data: opts.data, created });
  }
  const scores = await scoreImages(model, images, settings, opts);
  return buildCalibration({
    settings,
    scores,
    data: opts.data,
    created,
  });
}

/** Per image, the values of the `fused` components (one pass of the gradient component). */
export async function fusedRows(
  model: LoadedModel,
  images: AsyncIterable<NamedImage>,
  settings: ScoreSettings,
  opts: ScoreImagesOptions,
): Promise<number[][]> {
  const components = fusionComponents(model.manifest);
  const results = await scoreImageResults(
    model,
    images,
    passSettings(settings, model.manifest),
    opts,
  );
  return results.map((r) => componentValues(r, components));
}

/**
 * Stores a calibration in `<dir>/manifest.json`, replacing the entry for the same method and
 * settings. Other fields are written back as they were; the write is atomic (temp + rename).
 */
export async function saveCalibration(dir: string, calibration: Calibration): Promise<void> {
  const path = join(dir, "manifest.json");
  const raw = JSON.parse(await Deno.readTextFile(path)) as Record<string, unknown>;
  const current = parseManifest(raw, path);
  const updated = { ...raw, calibration: upsertCalibration(current.calibration, calibration) };
  parseManifest(updated, path); // never write a manifest the loader would refuse
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(tmp, formatJson(updated));
  await Deno.rename(tmp, path);
}

/** Indented JSON, but arrays of plain values on one line (1000 scores should not be 1000 lines). */
export function formatJson(value: unknown): string {
  const flat: string[] = [];
  const text = JSON.stringify(value, (_k, v) => {
    if (Array.isArray(v) && v.every((x) => x === null || typeof x !== "object")) {
      flat.push(JSON.stringify(v));
      return `\u0000${flat.length - 1}\u0000`;
    }
    return v;
  }, 2);
  return text.replace(/"\\u0000(\d+)\\u0000"/g, (_m, i) => flat[Number(i)]) + "\n";
}

/** A key identifying an image by its pixels (size + RGBA bytes). */
function pixelKey(image: DecodedImage): string {
  let s = `${image.width}x${image.height}:`;
  const d = image.data;
  // Chunked to stay far below the argument-count limit of String.fromCharCode.
  for (let i = 0; i < d.length; i += 8192) s += String.fromCharCode(...d.subarray(i, i + 8192));
  return s;
}

/**
 * Drops images whose pixels equal one of `excluded` (e.g. the test fixtures), so a calibration
 * on a dataset never sees images the tests score. Reports how many were dropped.
 */
export async function* excludeImages<T extends NamedImage>(
  images: AsyncIterable<T>,
  excluded: AsyncIterable<NamedImage>,
  onDropped?: (name: string) => void,
): AsyncIterable<T> {
  const keys = new Set<string>();
  for await (const e of excluded) keys.add(pixelKey(e.image));
  for await (const item of images) {
    if (keys.has(pixelKey(item.image))) onDropped?.(item.name);
    else yield item;
  }
}

/**
 * A warning when the calibrated method is degenerate on these images: `si` and `gaia_z` score
 * exactly −1 when every mask entry is non-zero (smooth activations), so the threshold separates
 * nothing.
 */
export function degenerateCalibrationWarning(c: Calibration): string | undefined {
  if (c.method !== "si" && c.method !== "gaia_z") return undefined;
  if (c.scores.length === 0 || !c.scores.every((s) => s === -1)) return undefined;
  return `Warning: every "${c.method}" score is exactly −1 (every gradient entry is non-zero, as ` +
    `with smooth activations like SiLU or GELU): the method cannot separate anything on this ` +
    `model; calibrate "si_a" instead`;
}
