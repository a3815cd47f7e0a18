/**
 * Loading model directories (`model.onnx` + `manifest.json`) and the registry of served models.
 * @module
 */
import { sha256Hex } from "../hash.ts";
import { basename, join } from "node:path";
import { createPreprocessor } from "../image/preprocess.ts";
import type { BackendName } from "../contract/backends.ts";
import { findCalibration } from "./calibration.ts";
import { withFusion } from "./fusion.ts";
import { type Manifest, parseManifest } from "./manifest.ts";
import type { LoadedModel, ModelRegistry } from "./types.ts";
import type { ScorerFactory } from "../contract/scoring.ts";

/** Model ids: lower-case, digits, `.`, `_`, `-`; checked before any filesystem access. */
export const MODEL_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** True when `id` is a well-formed model id (and therefore a safe directory name). */
export function isModelId(id: string): boolean {
  return MODEL_ID.test(id);
}

/** Options for loading models. */
export interface LoadOptions {
  readonly backend: BackendName;
  readonly createScorer: ScorerFactory;
  /** Directory whose `.cache/` holds compiled graphs; defaults to the model directory. */
  readonly cacheDir?: string;
  /**
   * Memory budget of the process in MB (default: each engine's own, from the host). A registry
   * hands each of its models an equal share.
   */
  readonly memoryBudgetMb?: number;
}

export { sha256Hex };

/** Reads and validates `<dir>/manifest.json`. */
export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, "manifest.json");
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`Cannot load model: ${path} not found`);
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`Cannot load model: ${path} is not valid JSON (${(e as Error).message})`);
  }
  return parseManifest(json, path);
}

/**
 * Loads a model directory: validates the manifest, checks the model file's sha256, builds the
 * pre-processor and the scorer. The model id is the directory's name.
 */
export async function loadModel(dir: string, opts: LoadOptions): Promise<LoadedModel> {
  const id = basename(dir);
  const manifest = await readManifest(dir);
  const file = join(dir, manifest.model.file);
  let modelBytes: Uint8Array;
  try {
    modelBytes = await Deno.readFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`Cannot load model "${id}": ${file} not found`);
    }
    throw e;
  }
  const actual = await sha256Hex(modelBytes);
  if (actual !== manifest.model.sha256) {
    throw new Error(
      `Cannot load model "${id}": ${file} has sha256 ${actual} but the manifest says ` +
        `${manifest.model.sha256} (replace the file, or update model.sha256 if the change is intended)`,
    );
  }
  const preprocess = createPreprocessor(manifest.preprocess, manifest.input);
  const inputDims = [manifest.input.channels, manifest.input.height, manifest.input.width] as const;
  const inner = await opts.createScorer({
    modelBytes,
    modelSha256: actual,
    modelFile: file,
    manifest,
    backend: opts.backend,
    inputDims,
    cacheDir: opts.cacheDir ?? dir,
    ...(opts.memoryBudgetMb ? { memoryBudgetMb: opts.memoryBudgetMb } : {}),
  });
  // `fused` needs the calibration, so it is scored around the (possibly worker-hosted) engine.
  const scorer = withFusion(inner, manifest, id);
  return {
    id,
    dir,
    manifest,
    labels: manifest.labels,
    backend: opts.backend,
    scorer,
    preprocess,
    inputDims,
    calibrationFor: (settings) => findCalibration(manifest.calibration, settings),
    defaults: manifest.defaults,
  };
}

/** The model ids under a root: sub-directories with a valid id and a manifest.json, sorted. */
export async function discoverModels(root: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const e of Deno.readDir(root)) {
    if (!e.isDirectory || !isModelId(e.name)) continue;
    try {
      if ((await Deno.stat(join(root, e.name, "manifest.json"))).isFile) ids.push(e.name);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return ids.sort();
}

/** A registry whose models may still be loading, and a promise that settles when they are. */
export interface StartedRegistry {
  readonly registry: ModelRegistry;
  /** Resolves once every model is loaded; rejects with the first load error. */
  readonly loaded: Promise<void>;
}

/**
 * Starts loading models in the background (one at a time, to bound memory while compiling), so
 * a server can answer `/healthz` and a not-ready `/readyz` meanwhile. Ids are validated first.
 */
export function startRegistry(
  root: string,
  ids: readonly string[] | "all",
  opts: LoadOptions,
): StartedRegistry {
  if (ids !== "all") {
    const bad = ids.find((id) => !isModelId(id));
    if (bad !== undefined) {
      throw new Error(`Invalid model id "${bad}": expected ${MODEL_ID.source}`);
    }
  }
  const models = new Map<string, LoadedModel>();
  let ready = false;
  const registry: ModelRegistry = {
    list: () => [...models.values()],
    get: (id) => (isModelId(id) ? models.get(id) : undefined),
    get ready() {
      return ready;
    },
  };
  const loaded = (async () => {
    const list = ids === "all" ? await discoverModels(root) : [...new Set(ids)];
    if (list.length === 0) throw new Error(`No models found in ${root}`);
    // One process, one budget: each model's engine plans against an equal share of it.
    const share = opts.memoryBudgetMb === undefined
      ? {}
      : { memoryBudgetMb: Math.floor(opts.memoryBudgetMb / list.length) };
    for (const id of list) models.set(id, await loadModel(join(root, id), { ...opts, ...share }));
    ready = true;
  })();
  return { registry, loaded };
}

/** Loads the models (all under `root`, or the given ids) and returns the ready registry. */
export async function createRegistry(
  root: string,
  ids: readonly string[] | "all",
  opts: LoadOptions,
): Promise<ModelRegistry> {
  const { registry, loaded } = startRegistry(root, ids, opts);
  await loaded;
  return registry;
}
