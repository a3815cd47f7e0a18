/**
 * The S&I engine: compiles a classifier into scoring graphs (one per method and settings,
 * cached) and scores batches of pre-processed inputs with them.
 * @module
 */
import { Graph } from "../onnx/graph.ts";
import { type ModelProto, writeModel } from "../onnx/proto.ts";
import { type PreparedModel, prepareModel } from "./model_prep.ts";
import { freeBytes } from "./model_source.ts";
import type { ShapeMap } from "../onnx/shapes.ts";
import { staticBatch } from "../onnx/input_dims.ts";
import { getRuntime } from "../runtime/runtime.ts";
import type { HostTensor, Runtime } from "../runtime/types.ts";
import { ALPHA_INPUT, graphSettings, OUT } from "../si/compile.ts";
import { settingsKey, validateSettings } from "../contract/settings.ts";
import { isAMethod, isGradientMethod, splitRule } from "../contract/methods.ts";
import { aVariantSplits, resolveSplits } from "../si/splits.ts";
import { ScoringGraphs } from "./scoring_graphs.ts";
import type { EngineOptions } from "./engine_options.ts";
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
import { toScores } from "./image_scores.ts";
import {
  DEFAULT_CACHE_MAX_MB,
  type ImageScore,
  type InputBatch,
  type ScoreCallOptions,
  type Scorer,
  type ScorerFactory,
  type ScoreSettings,
  type SplitPolicy,
  splitPolicyOf,
} from "../contract/scoring.ts";
import { passSettings } from "../contract/fusion.ts";

/**
 * A compiled model that scores batches. Runs are serialized: a session runs one batch at a time.
 *
 * @example Score pre-processed images with S&I
 * ```ts
 * import { SiEngine } from "./engine.ts";
 * import { DEFAULT_SETTINGS } from "../contract/scoring.ts";
 *
 * const engine = await SiEngine.create({
 *   modelBytes: await Deno.readFile("model.onnx"), // an ONNX classifier, input [N, 3, 16, 16]
 *   backend: "wasm",
 *   inputDims: [3, 16, 16],
 *   splitPolicy: { kind: "normalization" },
 * });
 * const data = new Float32Array(2 * 3 * 16 * 16).fill(0.5); // two images, NCHW, pre-processed
 * const settings = { ...DEFAULT_SETTINGS, method: "si" } as const; // α 0.001, T 2, CE, add
 * const [first] = await engine.score({ data, dims: [2, 3, 16, 16] }, settings);
 * console.log(`class ${first.class}, score ${first.score} over ${first.layers?.length} splits`);
 * ```
 */
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
  readonly #graphs: ScoringGraphs;
  /** Compiled sessions by graph-settings key. */
  readonly #sessions: SessionPool;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #memory: ModelMemory;
  readonly #plans = new Map<string, MemoryPlan>();

  private constructor(runtime: Runtime, prepared: PreparedModel, opts: EngineOptions) {
    // The model is a skeleton without weights where they can be read back (model_prep.ts).
    const { shapes, model, source } = prepared;
    this.runtime = runtime;
    this.model = model;
    this.graph = new Graph(model, shapes);
    this.shapes = shapes;
    this.inputName = this.graph.inputNames[0];
    const batch = staticBatch(model, this.inputName);
    this.inputDims = opts.inputDims;
    this.#splitPolicy = opts.splitPolicy;
    this.#stack = opts.stackRemainders ?? true;
    this.staticBatch = batch;
    this.maxBatch = batch ?? opts.maxBatch ?? 32;
    this.maxGradientBatch = batch ?? opts.maxGradientBatch ?? 8;
    this.#graphs = new ScoringGraphs({
      runtime,
      source,
      modelSha: prepared.digest,
      shapes,
      name: opts.source ?? "model",
      cacheDir: opts.cacheDir,
      cacheMaxBytes: (opts.cacheMaxMb ?? DEFAULT_CACHE_MAX_MB) * 2 ** 20,
      cacheKeep: prepared.cacheKeys,
      stack: this.#stack,
      dynamicBatch: batch === undefined,
      pooled: opts.splitPolicy.pooled,
      compileInWorker: opts.compileInWorker ?? true,
      splits: (s) => this.splits(s),
      splitChunk: (s) => this.plan(s).splitChunk,
    });
    this.#memory = {
      budgetBytes: (opts.memoryBudgetMb ?? defaultMemoryBudgetMb()) * 2 ** 20,
      // A released model is read back only by a compile worker, whose memory is freed with it
      // before the session is created: it is not held.
      modelBytes: prepared.source.held ? prepared.byteLength : 0,
      graphBytes: 2 * prepared.byteLength,
      fromBytes: !this.#graphs.fromFile,
    };
    const slots = sessionSlots(this.#memory, Math.max(1, opts.maxSessions ?? 4));
    this.#sessions = new SessionPool(slots);
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
        warm: (chunk) => this.#graphs.willOpenOptimized(s, chunk),
      });
      // A fixed batch dimension cannot be chunked: the plan only checks that it fits.
      if (this.staticBatch !== undefined) plan = { ...plan, batch: this.staticBatch };
      this.#plans.set(key, plan);
    }
    return plan;
  }

  /**
   * Loads the model, folds its constant sub-graphs and probes its shapes (or reads both from the
   * cache, model_prep.ts) and validates the split policy.
   */
  static async create(opts: EngineOptions): Promise<SiEngine> {
    const runtime = opts.runtime ?? await getRuntime(opts.backend);
    const prepared = await prepareModel({
      bytes: opts.modelBytes,
      source: opts.source ?? "model",
      runtime,
      inputDims: opts.inputDims,
      cacheDir: opts.cacheDir,
      sha256: opts.modelSha256,
      file: opts.modelFile,
    });
    if (opts.modelFile && !prepared.source.held) freeBytes(opts.modelBytes);
    const engine = new SiEngine(runtime, prepared, opts);
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
   * Split tensors a method uses (empty for output-based methods); the A variant's are chosen by
   * {@link aVariantSplits}.
   */
  splits(settings: ScoreSettings): readonly string[] {
    const m = settings.method;
    switch (splitRule(m)) {
      case "policy":
        return resolveSplits(this.graph, this.shapes, this.#splitPolicy);
      case "normalization":
        return resolveSplits(this.graph, this.shapes, { kind: "normalization" });
      case "a-variant":
        if (isAMethod(m)) return aVariantSplits(this.graph, this.shapes, this.#splitPolicy, m);
        throw new Error(`Method "${m}" is not of the A variant`);
      default: // `component` splits are the fused owner's (src/models/fusion.ts) to resolve
        return [];
    }
  }

  /** The serialized scoring graph for these settings (α is a graph input, see ALPHA_INPUT). */
  compile(settings: ScoreSettings): Uint8Array {
    return writeModel(this.#graphs.compileModel(graphSettings(settings)));
  }

  /**
   * A lease on the session for these settings, compiled on first use. Concurrent callers share
   * one compile, and settings that differ only in α share one session.
   */
  #lease(settings: ScoreSettings) {
    const s = graphSettings(settings);
    return this.#sessions.acquire(settingsKey(s), () => this.#graphs.createSession(s));
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
      results.push(...toScores(out, count, settings.method));
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

/** The engine as a {@link ScorerFactory}, split policy from the manifest, compiled on first use. */
export const createLazyScorer: ScorerFactory = (args) =>
  SiEngine.create({
    modelBytes: args.modelBytes,
    backend: args.backend,
    inputDims: args.inputDims,
    splitPolicy: splitPolicyOf(args.manifest),
    source: args.manifest.name,
    cacheDir: args.cacheDir,
    cacheMaxMb: args.cacheMaxMb,
    memoryBudgetMb: args.memoryBudgetMb,
    modelSha256: args.modelSha256,
    modelFile: args.modelFile,
  });

/**
 * The engine as a {@link ScorerFactory} for the service: the manifest's default settings are
 * compiled before the model counts as loaded, so /readyz means "ready to score fast".
 */
export const createScorer: ScorerFactory = async (args) => {
  const engine = await createLazyScorer(args) as SiEngine;
  // `fused` runs its gradient component's graph (src/models/fusion.ts scores around the engine).
  await engine.warmup(passSettings(args.manifest.defaults, args.manifest));
  return engine;
};
