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
import { inputDimsOf, type Manifest, parseManifest } from "./manifest.ts";
import type { LoadedModel, ModelRegistry } from "./types.ts";
import type { ScorerFactory } from "../contract/scoring.ts";
import { isModelId, MODEL_ID_RE } from "../contract/model_id.ts";

/** Options for loading models. */
export interface LoadOptions {
  readonly backend: BackendName;
  readonly createScorer: ScorerFactory;
  /** Directory whose `.cache/` holds compiled graphs; defaults to the model directory. */
  readonly cacheDir?: string;
  /** Most MB each model's `.cache/` may hold (the engine's default when omitted). */
  readonly cacheMaxMb?: number;
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
  const inputDims = inputDimsOf(manifest);
  const inner = await opts.createScorer({
    modelBytes,
    modelSha256: actual,
    modelFile: file,
    manifest,
    backend: opts.backend,
    inputDims,
    cacheDir: opts.cacheDir ?? dir,
    ...(opts.cacheMaxMb ? { cacheMaxMb: opts.cacheMaxMb } : {}),
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
  /** Serves each model as soon as it is loaded; `error` holds the load error, if any. */
  readonly registry: ModelRegistry;
  /** Resolves once every model is loaded; rejects with the first load error. */
  readonly loaded: Promise<void>;
}

/**
 * Starts loading models in the background (one at a time, to bound memory while compiling), so
 * a server can answer `/healthz` and a not-ready `/readyz` meanwhile, and returns the registry at
 * once. Ids are validated first; `opts` may still be resolving (e.g. the backend probe): loading
 * waits for them, and their failure is a load error.
 */
export function startRegistry(
  root: string,
  ids: readonly string[] | "all",
  opts: LoadOptions | Promise<LoadOptions>,
): StartedRegistry {
  if (ids !== "all") {
    const bad = ids.find((id) => !isModelId(id));
    if (bad !== undefined) {
      throw new Error(`Invalid model id "${bad}": expected ${MODEL_ID_RE.source}`);
    }
  }
  const models = new Map<string, LoadedModel>();
  let ready = false;
  let error: unknown;
  const registry: ModelRegistry = {
    list: () => [...models.values()],
    get: (id) => (isModelId(id) ? models.get(id) : undefined),
    get ready() {
      return ready;
    },
    get error() {
      return error;
    },
  };
  const loaded = (async () => {
    try {
      await loadAll(root, ids, await opts, models);
      ready = true;
    } catch (e) {
      error = e;
      throw e;
    }
  })();
  return { registry, loaded };
}

/** Loads the models one at a time into `models`, each with its share of the memory budget. */
async function loadAll(
  root: string,
  ids: readonly string[] | "all",
  opts: LoadOptions,
  models: Map<string, LoadedModel>,
): Promise<void> {
  const list = ids === "all" ? await discoverModels(root) : [...new Set(ids)];
  if (list.length === 0) throw new Error(`No models found in ${root}`);
  // One process, one budget: each model's engine plans against an equal share of it.
  const share = opts.memoryBudgetMb === undefined
    ? {}
    : { memoryBudgetMb: Math.floor(opts.memoryBudgetMb / list.length) };
  for (const id of list) models.set(id, await loadModel(join(root, id), { ...opts, ...share }));
}
