/**
 * The S&I engine: compiles a classifier into scoring graphs (one per method and settings,
 * cached) and scores batches of pre-processed inputs with them.
 * @module
 */
import { Graph } from "../onnx/graph.ts";
import { type ModelProto, readModel, writeModel } from "../onnx/proto.ts";
import { probeShapes, type ShapeMap } from "../runtime/shapes.ts";
import { compileKey, getOrBuildFile, getOrCompile, sha256Hex } from "../runtime/compile_cache.ts";
import { getRuntime } from "../runtime/runtime.ts";
import type { BackendName, GraphSession, HostTensor, Runtime } from "../runtime/types.ts";
import {
  ALPHA_INPUT,
  compileScoringModel,
  graphSettings,
  isAMethod,
  isGradientMethod,
  OUT,
} from "./compile.ts";
import { settingsKey, validateSettings } from "../contract/settings.ts";
import { aVariantSplits, resolveSplits } from "./splits.ts";
import { recordStackingFallback } from "./fallbacks.ts";
import { type CompiledOutput, compileInThread, compileOffThread } from "./compile_off_thread.ts";
import type { CompileJobOptions } from "./compile_job.ts";
import {
  activationBytesPerImage,
  defaultMemoryBudgetMb,
  gradientGraphWeightBytes,
  type MemoryPlan,
  type ModelMemory,
  planMemory,
  sessionSlots,
} from "./memory_plan.ts";
import { SessionPool } from "./session_pool.ts";
import {
  type ImageScore,
  type InputBatch,
  type ScoreCallOptions,
  type Scorer,
  type ScorerFactory,
  type ScoreSettings,
  type SplitPolicy,
  splitPolicyOf,
} from "../contract/scoring.ts";
import { componentSettings, fusionComponents } from "../contract/fusion.ts";

/** How to build an engine. */
export interface EngineOptions {
  readonly modelBytes: Uint8Array;
  readonly backend: BackendName;
  /** Input dims [C, H, W]. */
  readonly inputDims: readonly [number, number, number];
  /** Split policy for S&I (GAIA-Z always uses the normalization outputs). */
  readonly splitPolicy: SplitPolicy;
  /** Largest batch one run of an output-based method receives (default 32); larger are chunked. */
  readonly maxBatch?: number;
  /**
   * Largest batch one run of a gradient method (S&I, GAIA-Z) receives (default 8). The stacked
   * remainder pass holds one copy of the late activations per split, so memory grows with
   * splits × batch (about 1.2 GB at 8 and 4.4 GB at 32 for the fixture model) while the time
   * per image barely changes beyond 8.
   */
  readonly maxGradientBatch?: number;
  /** Name used in error messages. */
  readonly source?: string;
  /** Stack remainder passes along the batch axis when possible (default true). */
  readonly stackRemainders?: boolean;
  /** Directory whose `.cache/` sub-folder holds compiled graphs; no disk cache when omitted. */
  readonly cacheDir?: string;
  /**
   * Compiled sessions kept at once (default 4, fewer when the memory budget says so), least
   * recently used evicted: request parameters (T, loss, …) name many graphs, and each session
   * holds its own memory.
   */
  readonly maxSessions?: number;
  /**
   * Memory budget of the process in MB (default: from the host's memory, see memory_plan.ts):
   * gradient runs are split into batches and split chunks whose estimated peak fits it.
   */
  readonly memoryBudgetMb?: number;
  /**
   * Emit (and write) new scoring graphs in a short-lived Worker, so that this thread keeps
   * running other requests meanwhile and only pays the session creation (default true; done on
   * this thread anyway where no Worker can be started). See src/si/compile_off_thread.ts.
   */
  readonly compileInWorker?: boolean;
}

/** Bumped whenever the compiler's output changes, so stale cache entries are never read. */
const COMPILER_VERSION = "si-compiler-7";

/** A compiled model that scores batches. Runs are serialized: a session runs one batch at a time. */
export class SiEngine implements Scorer {
  readonly runtime: Runtime;
  readonly model: ModelProto;
  readonly graph: Graph;
  readonly shapes: ShapeMap;
  readonly inputName: string;
  readonly inputDims: readonly [number, number, number];
  /** Fixed batch size of models exported with a static batch dimension, else undefined. */
  readonly staticBatch: number | undefined;
  readonly maxBatch: number;
  readonly maxGradientBatch: number;
  readonly #splitPolicy: SplitPolicy;
  readonly #stack: boolean;
  readonly #cacheDir: string | undefined;
  readonly #modelBytes: Uint8Array;
  /** Digest of the model bytes, computed once for the compile-cache keys. */
  #modelSha: Promise<string> | undefined;
  /** Compiled sessions by graph-settings key. */
  readonly #sessions: SessionPool;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #memory: ModelMemory;
  readonly #plans = new Map<string, MemoryPlan>();
  readonly #name: string;
  readonly #compileInWorker: boolean;

  private constructor(
    runtime: Runtime,
    model: ModelProto,
    shapes: ShapeMap,
    opts: EngineOptions,
    staticBatch: number | undefined,
  ) {
    this.runtime = runtime;
    this.model = model;
    this.graph = new Graph(model);
    this.shapes = shapes;
    this.inputName = this.graph.inputNames[0];
    this.inputDims = opts.inputDims;
    this.#splitPolicy = opts.splitPolicy;
    this.#stack = opts.stackRemainders ?? true;
    this.#cacheDir = opts.cacheDir;
    this.#modelBytes = opts.modelBytes;
    this.staticBatch = staticBatch;
    this.maxBatch = staticBatch ?? opts.maxBatch ?? 32;
    this.maxGradientBatch = staticBatch ?? opts.maxGradientBatch ?? 8;
    this.#memory = {
      budgetBytes: (opts.memoryBudgetMb ?? defaultMemoryBudgetMb()) * 2 ** 20,
      modelBytes: opts.modelBytes.length,
      graphBytes: 2 * opts.modelBytes.length,
      fromBytes: !this.#fromFile,
    };
    const slots = sessionSlots(this.#memory, Math.max(1, opts.maxSessions ?? 4));
    this.#sessions = new SessionPool(slots);
    this.#name = opts.source ?? "model";
    this.#compileInWorker = opts.compileInWorker ?? true;
  }

  /**
   * How runs of a gradient method are sized to the memory budget: images per run and splits per
   * stacked pass. Output-based methods run in batches of `maxBatch`, all splits at once.
   * @throws {MemoryBudgetError} when one image with one split per pass does not fit.
   */
  plan(settings: ScoreSettings): MemoryPlan {
    const s = graphSettings(settings);
    if (!isGradientMethod(s.method)) return { batch: this.maxBatch, splitChunk: 1, peakBytes: 0 };
    const key = settingsKey(s);
    let plan = this.#plans.get(key);
    if (!plan) {
      const splits = this.splits(s);
      const stacked = this.#stack && this.staticBatch === undefined && s.iterations >= 2;
      plan = planMemory({
        ...this.#memory,
        graphBytes: gradientGraphWeightBytes(this.graph, splits),
        slots: this.#sessions.slots,
        maxBatch: this.maxGradientBatch,
        splitCount: stacked ? splits.length : 1,
        perImage: (chunk) =>
          activationBytesPerImage(this.graph, this.shapes, splits, s.iterations, chunk),
      });
      // A fixed batch dimension cannot be chunked: the plan only checks that it fits.
      if (this.staticBatch !== undefined) plan = { ...plan, batch: this.staticBatch };
      this.#plans.set(key, plan);
    }
    return plan;
  }

  /** Loads the model, probes its shapes and validates the split policy. */
  static async create(opts: EngineOptions): Promise<SiEngine> {
    const model = readModel(opts.modelBytes, opts.source);
    const runtime = await getRuntime(opts.backend);
    const graph = new Graph(model);
    const input = model.graph!.input!.find((i) => i.name === graph.inputNames[0]);
    const dim0 = input?.type?.tensorType?.shape?.dim?.[0];
    const staticBatch = dim0?.dimValue && Number(dim0.dimValue) > 0
      ? Number(dim0.dimValue)
      : undefined;
    const shapes = await probeShapes(model, runtime, opts.inputDims);
    const engine = new SiEngine(runtime, model, shapes, opts, staticBatch);
    engine.splits({ method: "si", alpha: 0.001, iterations: 2, loss: "ce", integrate: "add" });
    return engine;
  }

  /** How many sessions this engine has created (compiled or loaded from the cache) so far. */
  get sessionsCreated(): number {
    return this.#sessions.created;
  }

  /** Compiled sessions kept alive at once (bounded by the memory budget). */
  get sessionSlots(): number {
    return this.#sessions.slots;
  }

  /**
   * Whether sessions are created from compiled files with external data (native backend with a
   * compile cache): neither the serialized graph nor a parsed copy of its weights is then held
   * while onnxruntime builds the session.
   */
  get #fromFile(): boolean {
    return this.#cacheDir !== undefined && this.runtime.backend === "native";
  }

  /**
   * Split tensors a method uses (empty for output-based methods); the A variant's are chosen by
   * {@link aVariantSplits}.
   */
  splits(settings: ScoreSettings): readonly string[] {
    if (settings.method === "si") return resolveSplits(this.graph, this.shapes, this.#splitPolicy);
    if (settings.method === "gaia_z") {
      return resolveSplits(this.graph, this.shapes, { kind: "normalization" });
    }
    if (isAMethod(settings.method)) {
      return aVariantSplits(this.graph, this.shapes, this.#splitPolicy, settings.method);
    }
    return [];
  }

  /** The serialized scoring graph for these settings (α is a graph input, see ALPHA_INPUT). */
  compile(settings: ScoreSettings): Uint8Array {
    return writeModel(this.#compileModel(graphSettings(settings)));
  }

  #compileModel(s: ScoreSettings): ModelProto {
    return compileScoringModel(this.model, this.graph, this.shapes, s, this.splits(s), {
      ...this.#compileOptions(s),
      onFallback: this.#onFallback,
    });
  }

  #compileOptions(s: ScoreSettings): CompileJobOptions {
    return {
      stack: this.#stack,
      dynamicBatch: this.staticBatch === undefined,
      splitChunk: this.plan(s).splitChunk,
      pooled: this.#splitPolicy.pooled,
    };
  }

  readonly #onFallback = (reason: string) => recordStackingFallback(this.#name, reason);

  /**
   * Compiles the graph for these graph settings, in a compile worker unless `compileInWorker` is
   * false: the graph file's path when `file` is given (`finishCompile` in compile_job.ts), else the
   * serialized graph.
   */
  #emit(s: ScoreSettings, file?: string): Promise<CompiledOutput> {
    const inThread = () => this.#compileModel(s);
    const job = {
      modelBytes: this.#modelBytes,
      source: this.#name,
      shapes: this.shapes,
      settings: s,
      splits: this.splits(s),
      options: this.#compileOptions(s),
      file,
    };
    const options = { onFallback: this.#onFallback, inThread };
    return this.#compileInWorker ? compileOffThread(job, options) : compileInThread(job, options);
  }

  /** {@link #emit} without a file: the serialized graph. */
  async #emitBytes(s: ScoreSettings): Promise<Uint8Array> {
    return await this.#emit(s) as Uint8Array;
  }

  /**
   * A lease on the session for these settings, compiled on first use. Concurrent callers share
   * one compile, and settings that differ only in α share one session.
   */
  #lease(settings: ScoreSettings) {
    const s = graphSettings(settings);
    return this.#sessions.acquire(settingsKey(s), () => this.#createSession(s));
  }

  async #createSession(s: ScoreSettings): Promise<GraphSession> {
    if (!this.#fromFile) return this.runtime.createSession(await this.#compiled(s));
    return this.runtime.createSession(await this.#compiledFile(s));
  }

  /** What a cache entry depends on besides the model bytes. */
  #cacheWhat(s: ScoreSettings): string {
    return `${COMPILER_VERSION};${settingsKey(s)};stack=${this.#stack};chunk=${
      this.plan(s).splitChunk
    };splits=${this.splits(s).join("|")};pooled=${this.#splitPolicy.pooled ?? ""}`;
  }

  async #cacheKey(what: string): Promise<string> {
    this.#modelSha ??= sha256Hex(this.#modelBytes);
    return compileKey(await this.#modelSha, what);
  }

  /** Compiled bytes, from the on-disk cache when the engine has one. */
  async #compiled(s: ScoreSettings): Promise<Uint8Array> {
    if (!this.#cacheDir) return this.#emitBytes(s);
    const key = await this.#cacheKey(this.#cacheWhat(s));
    return getOrCompile(key, this.#cacheDir, () => this.#emitBytes(s));
  }

  /**
   * The compiled graph file with external data under the cache (see #fromFile), or the
   * serialized graph when the cache cannot be written.
   */
  async #compiledFile(s: ScoreSettings): Promise<CompiledOutput> {
    const key = await this.#cacheKey(`${this.#cacheWhat(s)};external-data`);
    return getOrBuildFile(key, this.#cacheDir!, (path) => this.#emit(s, path));
  }

  /** Compiles (and caches) the session for these settings ahead of the first request. */
  async warmup(settings: ScoreSettings): Promise<void> {
    (await this.#lease(settings)).done();
  }

  /**
   * Scores a batch; results are in input order and independent of batch composition. An aborted
   * `options.signal` stops before the next run (a micro-batch already running finishes: an
   * onnxruntime run cannot be interrupted) and rejects with the signal's reason.
   */
  async score(
    batch: InputBatch,
    settings: ScoreSettings,
    options: ScoreCallOptions = {},
  ): Promise<ImageScore[]> {
    const results: ImageScore[] = [];
    await this.#runChunks(batch, settings, (out, count) => {
      results.push(...toScores(out, count, isGradientMethod(settings.method)));
    }, options.signal);
    return results;
  }

  /** Per image, the channel fractions P of a gradient method (what the masks reduce to). */
  async fractions(batch: InputBatch, settings: ScoreSettings): Promise<number[][]> {
    if (!isGradientMethod(settings.method)) {
      throw new Error(`Method "${settings.method}" has no fractions`);
    }
    const rows: number[][] = [];
    await this.#runChunks(batch, settings, (out, count) => {
      const f = out[OUT.fractions];
      const width = f.dims[1];
      for (let i = 0; i < count; i++) {
        rows.push(Array.from((f.data as Float32Array).subarray(i * width, (i + 1) * width)));
      }
    });
    return rows;
  }

  async #runChunks(
    batch: InputBatch,
    settings: ScoreSettings,
    take: (out: Record<string, HostTensor>, count: number) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    validateSettings(settings);
    const [n, c, h, w] = batch.dims;
    const [ec, eh, ew] = this.inputDims;
    if (c !== ec || h !== eh || w !== ew) {
      throw new RangeError(
        `Input batch has dims [${batch.dims}] but the model expects [N,${ec},${eh},${ew}]`,
      );
    }
    const per = c * h * w;
    const chunk = this.plan(settings).batch;
    for (let start = 0; start < n; start += chunk) {
      signal?.throwIfAborted();
      const count = Math.min(chunk, n - start);
      const rows = this.staticBatch ?? count;
      const data = new Float32Array(rows * per);
      data.set(batch.data.subarray(start * per, (start + count) * per));
      // One run at a time per engine: onnxruntime sessions do not take concurrent runs. The
      // session is leased (compiled if need be) before queueing, so a compile does not hold up
      // runs queued by other requests, and an eviction never frees it before this run is done.
      const lease = await this.#lease(settings);
      const run = this.#queue.then(() => {
        const feeds: Record<string, HostTensor> = {
          [this.inputName]: { type: "float32", dims: [rows, c, h, w], data },
        };
        if (lease.session.inputNames.includes(ALPHA_INPUT)) {
          feeds[ALPHA_INPUT] = {
            type: "float32",
            dims: [],
            data: new Float32Array([settings.alpha]),
          };
        }
        return lease.session.run(feeds);
      }).finally(() => lease.done());
      this.#queue = run.catch(() => undefined);
      take(await run, count);
    }
  }
}

function toScores(
  out: Record<string, HostTensor>,
  count: number,
  withLayers: boolean,
): ImageScore[] {
  const score = out[OUT.score].data as Float32Array;
  const cls = out[OUT.cls].data as BigInt64Array;
  const conf = out[OUT.confidence].data as Float32Array;
  const layers = withLayers ? out[OUT.layers] : undefined;
  const energy = withLayers ? out[OUT.energy]?.data as Float32Array | undefined : undefined;
  const l = layers ? layers.dims[1] : 0;
  return Array.from({ length: count }, (_, i) => ({
    score: score[i],
    class: Number(cls[i]),
    confidence: conf[i],
    ...(layers
      ? { layers: Array.from((layers.data as Float32Array).subarray(i * l, (i + 1) * l)) }
      : {}),
    ...(energy ? { energy: energy[i] } : {}),
  }));
}

/** The engine as a {@link ScorerFactory}, split policy from the manifest, compiled on first use. */
export const createLazyScorer: ScorerFactory = (args) =>
  SiEngine.create({
    modelBytes: args.modelBytes,
    backend: args.backend,
    inputDims: args.inputDims,
    splitPolicy: splitPolicyOf(args.manifest),
    source: args.manifest.name,
    cacheDir: args.cacheDir,
    memoryBudgetMb: args.memoryBudgetMb,
  });

/**
 * The engine as a {@link ScorerFactory} for the service: the manifest's default settings are
 * compiled before the model counts as loaded, so /readyz means "ready to score fast".
 */
export const createScorer: ScorerFactory = async (args) => {
  const engine = await createLazyScorer(args) as SiEngine;
  const d = args.manifest.defaults;
  // `fused` runs its gradient component's graph (src/models/fusion.ts scores around the engine).
  await engine.warmup(
    d.method === "fused" ? componentSettings(d, fusionComponents(args.manifest)) : d,
  );
  return engine;
};
