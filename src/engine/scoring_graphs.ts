/**
 * Where a model's scoring sessions come from: emitting the graph for a method and settings (in a
 * compile Worker unless told otherwise), the compile cache on disk, and the onnxruntime session
 * built from the cached file (native) or from bytes. The engine (engine.ts) decides which
 * settings and plans; this module turns them into sessions.
 * @module
 */
import type { Graph } from "../onnx/graph.ts";
import type { ModelProto } from "../onnx/proto.ts";
import type { ShapeMap } from "../onnx/shapes.ts";
import { compileKey, getOrBuildFile, getOrCompile, sha256Hex } from "../runtime/compile_cache.ts";
import type { GraphSession, Runtime } from "../runtime/types.ts";
import { settingsKey } from "../contract/settings.ts";
import type { ScoreSettings } from "../contract/scoring.ts";
import { compileScoringModel } from "../si/compile.ts";
import { recordStackingFallback } from "./fallbacks.ts";
import { type CompiledOutput, compileInThread, compileOffThread } from "./compile_off_thread.ts";
import type { CompileJobOptions } from "./compile_job.ts";

/** Bumped whenever the compiler's output changes, so stale cache entries are never read. */
const COMPILER_VERSION = "si-compiler-10";

/** What the graphs of one model depend on. */
export interface ScoringGraphsOptions {
  readonly runtime: Runtime;
  readonly model: ModelProto;
  readonly modelBytes: Uint8Array;
  readonly graph: Graph;
  readonly shapes: ShapeMap;
  /** Name used in fallback records. */
  readonly name: string;
  /** Directory whose `.cache/` sub-folder holds compiled graphs; no disk cache when undefined. */
  readonly cacheDir: string | undefined;
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
    return compileScoringModel(o.model, o.graph, o.shapes, s, o.splits(s), {
      ...this.#compileOptions(s),
      onFallback: this.#onFallback,
    });
  }

  /** A new session for these graph settings, compiled or read from the cache. */
  async createSession(s: ScoreSettings): Promise<GraphSession> {
    const model = this.fromFile ? await this.#compiledFile(s) : await this.#compiled(s);
    return this.#o.runtime.createSession(model);
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
      modelBytes: o.modelBytes,
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

  /** What a cache entry depends on besides the model bytes. */
  #cacheWhat(s: ScoreSettings): string {
    return `${COMPILER_VERSION};${settingsKey(s)};stack=${this.#o.stack};chunk=${
      this.#o.splitChunk(s)
    };splits=${this.#o.splits(s).join("|")};pooled=${this.#o.pooled ?? ""}`;
  }

  async #cacheKey(what: string): Promise<string> {
    this.#modelSha ??= sha256Hex(this.#o.modelBytes);
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
  async #compiledFile(s: ScoreSettings): Promise<CompiledOutput> {
    const key = await this.#cacheKey(`${this.#cacheWhat(s)};external-data`);
    return getOrBuildFile(key, this.#o.cacheDir!, (path) => this.#emit(s, path));
  }
}
