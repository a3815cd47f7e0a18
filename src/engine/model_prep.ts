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
import { markCacheUsed } from "../runtime/cache_prune.ts";
import { getRuntime } from "../runtime/runtime.ts";
import type { Runtime } from "../runtime/types.ts";
import { foldConstants } from "./constant_fold.ts";
import { ModelSource, skeletonModel } from "./model_source.ts";

/** Bumped whenever folding or the probe changes what they produce. */
const PREP_VERSION = "model-prep-1";

/** A model ready for the compiler. */
export interface PreparedModel {
  /**
   * The model the engine reads for splits and plans: the folded model, or its skeleton without
   * weights when {@link source} can read them back from a file (model_source.ts).
   */
  readonly model: ModelProto;
  /** The model to compile from (folded when anything folded). */
  readonly source: ModelSource;
  /** Size of the serialized model to compile from. */
  readonly byteLength: number;
  /**
   * A digest naming the model to compile from, for the compiled graphs' cache keys: the source's
   * sha256, plus how it was folded when it was (so an unfolded model keeps its existing entries).
   */
  readonly digest: string;
  readonly shapes: ShapeMap;
  /** Whether constant sub-graphs were folded. */
  readonly folded: boolean;
  /** Whether the facts came from the disk cache (no probe or folding ran). */
  readonly cached: boolean;
  /** Keys of this model's own cache entries (facts, folded model, skeleton): never pruned. */
  readonly cacheKeys: readonly string[];
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
  const key = (part: string) => compileKey(sha, `${what};${part}`);
  const [factsKey, foldKey, skeletonKey] = await Promise.all(
    ["facts", "folded", "skeleton"].map(key),
  );
  const fold = async () => {
    const runtime = o.foldRuntime ??
      (foldBackend === o.runtime.backend ? o.runtime : await getRuntime(foldBackend));
    return foldConstants(readModel(o.bytes, o.source), runtime);
  };
  const foldFile = o.cacheDir ? join(o.cacheDir, ".cache", `${foldKey}.onnx`) : undefined;
  const cached = o.cacheDir ? await readJsonEntry<Facts>(factsKey, o.cacheDir) : undefined;
  let facts: Facts, bytes: Uint8Array | undefined = o.bytes, full: ModelProto | undefined;
  if (cached && (!cached.folded || await existing(foldFile!))) {
    facts = cached;
    bytes = cached.folded ? undefined : o.bytes; // the folded entry is read only to compile
  } else {
    const folded = await fold();
    if (folded) {
      const built = writeModel(folded);
      bytes = o.cacheDir
        ? await getOrCompile(foldKey, o.cacheDir, () => Promise.resolve(built))
        : built;
    }
    full = readModel(bytes, o.source);
    const shapes = await probeShapes(full, o.runtime, o.inputDims);
    const rows = [...shapes].map((
      [name, t],
    ): Facts["shapes"][number] => [name, t.type, [...t.dims]]);
    facts = { folded: folded !== undefined, shapes: rows };
    if (o.cacheDir) await writeJsonEntry(factsKey, o.cacheDir, facts);
  }
  const file = facts.folded ? await existing(foldFile) : o.file;
  const source = new ModelSource(bytes, file, o.source, full);
  let model: ModelProto;
  if (file && o.cacheDir) {
    // The engine keeps a skeleton (no weights), cached too: a restart parses no weights at all.
    const skeleton = await getOrCompile(
      skeletonKey,
      o.cacheDir,
      () => Promise.resolve(writeModel(skeletonModel(source.parsed()))),
    );
    model = readModel(skeleton, o.source);
  } else {
    model = file ? skeletonModel(source.parsed()) : source.parsed();
  }
  source.release();
  const shapes = new Map(facts.shapes.map(([name, type, dims]) => [name, { type, dims }]));
  const digest = facts.folded ? `${sha};${what}` : sha;
  const byteLength = bytes?.length ?? (await Deno.stat(file!)).size;
  const cacheKeys = [factsKey, foldKey, skeletonKey];
  if (o.cacheDir) await markCacheUsed(o.cacheDir, cacheKeys);
  return {
    model,
    source,
    byteLength,
    digest,
    shapes,
    folded: facts.folded,
    cached: !full,
    cacheKeys,
  };
}

/** `path` if a file is there (a cache entry that could not be written is not). */
async function existing(path: string | undefined): Promise<string | undefined> {
  if (!path) return undefined;
  try {
    return (await Deno.stat(path)).isFile ? path : undefined;
  } catch {
    return undefined;
  }
}
