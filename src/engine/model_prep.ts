/**
 * What the engine derives from a model before it compiles anything — the model with its constant
 * sub-graphs folded (constant_fold.ts) and every tensor's type and shape (the probe,
 * src/runtime/shapes.ts) — cached on disk next to the compiled graphs and keyed like them (the
 * model's sha256 plus the input size and versions), so that a restart reads them and creates no
 * session before the scoring session. Without a cache directory they are derived every time.
 *
 * Entries under `<cacheDir>/.cache/`: `<key>.json` (`{folded, shapes}`) and, when something was
 * folded, the folded model as a compile-cache entry (`<key>.onnx` + sidecar).
 * @module
 */
import { join } from "node:path";
import { type ModelProto, readModel, writeModel } from "../onnx/proto.ts";
import type { DType, ShapeMap } from "../onnx/shapes.ts";
import {
  compileKey,
  getOrCompile,
  readJsonEntry,
  sha256Hex,
  writeJsonEntry,
} from "../runtime/compile_cache.ts";
import { probeShapes } from "../runtime/shapes.ts";
import { getRuntime } from "../runtime/runtime.ts";
import type { Runtime } from "../runtime/types.ts";
import { foldConstants } from "./constant_fold.ts";

/** Bumped whenever folding or the probe changes what they produce. */
const PREP_VERSION = "model-prep-1";

/** A model ready for the compiler. */
export interface PreparedModel {
  /** The model to compile from (folded when anything folded). */
  readonly model: ModelProto;
  /** Its serialized bytes (what compile workers parse). */
  readonly bytes: Uint8Array;
  /**
   * A digest naming {@link bytes} for the compiled graphs' cache keys: the source's sha256, plus
   * how it was folded when it was (so an unfolded model keeps its existing entries).
   */
  readonly digest: string;
  readonly shapes: ShapeMap;
  /** Whether constant sub-graphs were folded. */
  readonly folded: boolean;
  /** A file holding {@link bytes}, if there is one (the source file or the folded entry). */
  readonly file: string | undefined;
  /** Whether the facts came from the disk cache (no probe ran). */
  readonly cached: boolean;
}

/** What {@link prepareModel} needs. */
export interface PrepareOptions {
  readonly bytes: Uint8Array;
  readonly source: string;
  readonly runtime: Runtime;
  readonly inputDims: readonly number[];
  /** Directory whose `.cache/` holds the entries; nothing is cached when undefined. */
  readonly cacheDir: string | undefined;
  /** The bytes' sha256 when the caller has it (the loader checks it against the manifest). */
  readonly sha256?: string;
  /** The file `bytes` were read from, if any. */
  readonly file?: string;
  /** Runtime whose CPU kernels fold constants (default: the backend's own, wasm for webgpu). */
  readonly foldRuntime?: Runtime;
}

/** Cached facts: whether the model folded and its shapes as `[name, type, dims]` rows. */
interface Facts {
  readonly folded: boolean;
  readonly shapes: [string, DType, number[]][];
}

/** Folds, probes and caches (or reads the cache); see the module doc. */
export async function prepareModel(o: PrepareOptions): Promise<PreparedModel> {
  const sha = o.sha256 ?? await sha256Hex(o.bytes);
  const foldBackend = o.foldRuntime?.backend ??
    (o.runtime.backend === "webgpu" ? "wasm" : o.runtime.backend);
  const what = `${PREP_VERSION};dims=${o.inputDims.join("x")};fold=${foldBackend}`;
  const factsKey = await compileKey(sha, `${what};facts`);
  const foldKey = await compileKey(sha, `${what};folded`);
  const fold = async () => {
    const runtime = o.foldRuntime ??
      (foldBackend === o.runtime.backend ? o.runtime : await getRuntime(foldBackend));
    return foldConstants(readModel(o.bytes, o.source), runtime);
  };
  const cached = o.cacheDir ? await readJsonEntry<Facts>(factsKey, o.cacheDir) : undefined;
  if (cached) {
    const bytes = cached.folded
      ? await getOrCompile(foldKey, o.cacheDir!, async () => writeModel((await fold())!))
      : o.bytes;
    const shapes = new Map(cached.shapes.map(([name, type, dims]) => [name, { type, dims }]));
    const model = readModel(bytes, o.source);
    const digest = cached.folded ? `${sha};${what}` : sha;
    const file = cached.folded
      ? await existing(join(o.cacheDir!, ".cache", `${foldKey}.onnx`))
      : o.file;
    return { model, bytes, digest, shapes, folded: cached.folded, file, cached: true };
  }
  const folded = await fold();
  let bytes = o.bytes;
  if (folded) {
    const built = writeModel(folded);
    bytes = o.cacheDir
      ? await getOrCompile(foldKey, o.cacheDir, () => Promise.resolve(built))
      : built;
  }
  const model = readModel(bytes, o.source);
  const shapes = await probeShapes(model, o.runtime, o.inputDims);
  if (o.cacheDir) {
    const rows = [...shapes].map(([name, t]) => [name, t.type, [...t.dims]]);
    await writeJsonEntry(factsKey, o.cacheDir, { folded: folded !== undefined, shapes: rows });
  }
  const digest = folded ? `${sha};${what}` : sha;
  const file = !folded
    ? o.file
    : o.cacheDir
    ? await existing(join(o.cacheDir, ".cache", `${foldKey}.onnx`))
    : undefined;
  return { model, bytes, digest, shapes, folded: folded !== undefined, file, cached: false };
}

/** `path` if a file is there (a cache entry that could not be written is not). */
async function existing(path: string): Promise<string | undefined> {
  try {
    return (await Deno.stat(path)).isFile ? path : undefined;
  } catch {
    return undefined;
  }
}
