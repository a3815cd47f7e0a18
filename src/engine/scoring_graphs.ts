/**
 * Where a model's scoring sessions come from: emitting the graph for a method and settings (in a
 * compile Worker unless told otherwise), the compile cache on disk, and the onnxruntime session
 * built from the cached file (native) or from bytes. The engine (engine.ts) decides which
 * settings and plans; this module turns them into sessions.
 * @module
 */
import type { ModelProto } from "../onnx/proto.ts";
import { hasOptimized, openOptimized, optimizedKeyPart } from "../runtime/optimized_cache.ts";
import { markCacheUsed, pruneCache } from "../runtime/cache_prune.ts";
import type { ShapeMap } from "../onnx/shapes.ts";
import {
  compileKey,
  compileKeySync,
  getOrBuildFile,
  getOrCompile,
  sha256Hex,
} from "../runtime/compile_cache.ts";
import type { GraphSession, Runtime } from "../runtime/types.ts";
import { settingsKey } from "../contract/settings.ts";
import type { ScoreSettings } from "../contract/scoring.ts";
import { compileScoringModel } from "../si/compile.ts";
import type { ModelSource } from "./model_source.ts";
import { recordStackingFallback } from "./fallbacks.ts";
import { type CompiledOutput, compileInThread, compileOffThread } from "./compile_off_thread.ts";
import type { CompileJobOptions } from "./compile_job.ts";

/** Bumped whenever the compiler's output changes, so stale cache entries are never read. */
const COMPILER_VERSION = "si-compiler-10";

/** What the graphs of one model depend on. */
export interface ScoringGraphsOptions {
  readonly runtime: Runtime;
  /** The model to compile from, held or re-read from its file (model_source.ts). */
  readonly source: ModelSource;
  /** A digest naming the model's bytes for cache keys (hashed from them when omitted). */
  readonly modelSha?: string;
  readonly shapes: ShapeMap;
  /** Name used in fallback records. */
  readonly name: string;
  /** Directory whose `.cache/` sub-folder holds compiled graphs; no disk cache when undefined. */
  readonly cacheDir: string | undefined;
  /** Most bytes the `.cache/` folder may hold; least recently used entries go (cache_prune.ts). */
  readonly cacheMaxBytes: number;
  /** Cache entries never pruned (the model's own: model_prep.ts). */
  readonly cacheKeep: readonly string[];
  readonly stack: boolean;
  readonly dynamicBatch: boolean;
  /** The manifest's pooled features (A variant), if named. */
  readonly pooled: string | undefined;
  readonly compileInWorker: boolean;
  /** Split tensors of a method (the engine's choice). */
  readonly splits: (s: ScoreSettings) => readonly string[];
  /** Splits per stacked pass under the memory plan (the engine's choice). */
  readonly splitChunk: (s: ScoreSettings) => number;
}

/** Compiles, caches and opens one model's scoring graphs; settings are graph settings. */
export class ScoringGraphs {
  readonly #o: ScoringGraphsOptions;
  /** Digest of the model bytes, computed once for the compile-cache keys. */
  #modelSha: Promise<string> | undefined;

  constructor(options: ScoringGraphsOptions) {
    this.#o = options;
  }

  /**
   * Whether sessions are created from compiled files with external data (native backend with a
   * compile cache): neither the serialized graph nor a parsed copy of its weights is then held
   * while onnxruntime builds the session.
   */
  get fromFile(): boolean {
    return this.#o.cacheDir !== undefined && this.#o.runtime.backend === "native";
  }

  /** The scoring model for these graph settings, emitted on this thread. */
  compileModel(s: ScoreSettings): ModelProto {
    const o = this.#o;
    return compileScoringModel(o.source.parsed(), o.shapes, s, o.splits(s), {
      ...this.#compileOptions(s),
      onFallback: this.#onFallback,
    });
  }

  /** A new session for these graph settings, compiled or read from the cache. */
  async createSession(s: ScoreSettings): Promise<GraphSession> {
    if (!this.fromFile) {
      const session = await this.#o.runtime.createSession(await this.#compiled(s));
      if (this.#o.cacheDir) await this.#bound([await this.#cacheKey(this.#cacheWhat(s))]);
      return session;
    }
    // onnxruntime's optimised graph, cached: on a restart the compiled file is not even read.
    const key = await this.#cacheKey(`${this.#cacheWhat(s)};external-data`);
    const optimized = await compileKey(key, optimizedKeyPart(this.#o.runtime));
    const session = await openOptimized(
      this.#o.runtime,
      optimized,
      this.#o.cacheDir!,
      () => this.#compiledFile(key, s),
    );
    await this.#bound([key, optimized]);
    return session;
  }

  /**
   * Marks the entries a session was created from as used and prunes the cache to its bound
   * (cache_prune.ts); a cache that cannot be written is left as it is.
   */
  async #bound(used: readonly string[]): Promise<void> {
    const dir = this.#o.cacheDir!;
    try {
      await markCacheUsed(dir, used);
      await pruneCache(dir, this.#o.cacheMaxBytes, [...used, ...this.#o.cacheKeep]);
    } catch (e) {
      console.warn(`Cannot bound the compile cache in ${dir}: ${(e as Error).message}`);
    }
  }

  #compileOptions(s: ScoreSettings): CompileJobOptions {
    return {
      stack: this.#o.stack,
      dynamicBatch: this.#o.dynamicBatch,
      splitChunk: this.#o.splitChunk(s),
      pooled: this.#o.pooled,
    };
  }

  readonly #onFallback = (reason: string) => recordStackingFallback(this.#o.name, reason);

  /**
   * Compiles the graph for these graph settings, in a compile worker unless `compileInWorker` is
   * false: the graph file's path when `file` is given (`finishCompile` in compile_job.ts), else the
   * serialized graph.
   */
  #emit(s: ScoreSettings, file?: string): Promise<CompiledOutput> {
    const o = this.#o;
    const job = {
      modelBytes: o.source.bytes(),
      source: o.name,
      shapes: o.shapes,
      settings: s,
      splits: o.splits(s),
      options: this.#compileOptions(s),
      file,
    };
    const options = { onFallback: this.#onFallback, inThread: () => this.compileModel(s) };
    return o.compileInWorker ? compileOffThread(job, options) : compileInThread(job, options);
  }

  /** {@link #emit} without a file: the serialized graph. */
  async #emitBytes(s: ScoreSettings): Promise<Uint8Array> {
    return await this.#emit(s) as Uint8Array;
  }

  /**
   * Whether the session for these settings (with `chunk` splits per pass) will open from
   * onnxruntime's optimised graph on disk: then neither a compile nor an optimising session
   * creation happens (the memory plan counts less for it). Needs the model's digest.
   */
  willOpenOptimized(s: ScoreSettings, chunk: number): boolean {
    if (!this.fromFile || this.#o.modelSha === undefined) return false;
    const key = compileKeySync(this.#o.modelSha, `${this.#cacheWhat(s, chunk)};external-data`);
    const optimized = compileKeySync(key, optimizedKeyPart(this.#o.runtime));
    return hasOptimized(optimized, this.#o.cacheDir!);
  }

  /** What a cache entry depends on besides the model bytes. */
  #cacheWhat(s: ScoreSettings, chunk = this.#o.splitChunk(s)): string {
    return `${COMPILER_VERSION};${settingsKey(s)};stack=${this.#o.stack};chunk=${chunk};splits=${
      this.#o.splits(s).join("|")
    };pooled=${this.#o.pooled ?? ""}`;
  }

  async #cacheKey(what: string): Promise<string> {
    this.#modelSha ??= this.#o.modelSha !== undefined
      ? Promise.resolve(this.#o.modelSha)
      : sha256Hex(this.#o.source.bytes());
    return compileKey(await this.#modelSha, what);
  }

  /** Compiled bytes, from the on-disk cache when there is one. */
  async #compiled(s: ScoreSettings): Promise<Uint8Array> {
    if (!this.#o.cacheDir) return this.#emitBytes(s);
    const key = await this.#cacheKey(this.#cacheWhat(s));
    return getOrCompile(key, this.#o.cacheDir, () => this.#emitBytes(s));
  }

  /**
   * The compiled graph file with external data under the cache (see {@link fromFile}), or the
   * serialized graph when the cache cannot be written.
   */
  #compiledFile(key: string, s: ScoreSettings): Promise<CompiledOutput> {
    return getOrBuildFile(key, this.#o.cacheDir!, (path) => this.#emit(s, path));
  }
}
