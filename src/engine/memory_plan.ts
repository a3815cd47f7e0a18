/**
 * Memory planning for gradient methods: how many images one run takes and how many splits one
 * stacked remainder pass carries, so that the process peak stays within a memory budget.
 *
 * The estimate comes from the probed shapes: a stacked pass over splits l₁…l_m holds every
 * batch-dependent float tensor downstream of z_l once per stream (for the backward pass), so its
 * activation bytes per image are Σ_t streams(t)·bytes(t). The constants below turn that into
 * RSS; they were fitted to peak RSS measured with /usr/bin/time -v on the bundled WRN-40-2 and
 * the CIFAR ResNet-34 (docs/performance.md, "Memory budget").
 * @module
 */
import type { Graph } from "../onnx/graph.ts";
import type { ShapeMap } from "../onnx/shapes.ts";

/**
 * RSS of the process apart from the model and its sessions: Deno, onnxruntime, the CLI or HTTP
 * stack, and what the shape probe leaves behind.
 */
export const BASE_BYTES = 150 * 2 ** 20;
/**
 * Bytes a created session keeps per byte of its graph's weights (after the creation's
 * temporaries are returned to the OS, src/runtime/heap.ts): the weights, onnxruntime's re-laid-out
 * copies of the convolution kernels and its bookkeeping. Measured 263 MB for the CIFAR
 * ResNet-34's 164 MB scoring graph (native, graph optimisation level "all").
 */
export const SESSION_FACTOR = 1.6;
/**
 * Transient bytes of creating a session per byte of its graph's weights, on top of what was
 * resident before: onnxruntime's parsed graph, the optimiser's copies, the graph's own weights.
 * Measured +557 MB for the ResNet-34's 164 MB graph created from its file with external data.
 */
export const CREATION_FACTOR = 3.4;
/**
 * Extra creation transient per graph-weight byte when the session is created from serialized
 * bytes (no compile cache, or a backend that cannot read files): the serialized model in
 * JavaScript. Measured +154 MB for the ResNet-34's 164 MB graph.
 */
export const BYTES_CREATION_FACTOR = 1;
/**
 * Bytes a session opened from onnxruntime's cached optimised graph keeps per byte of its graph's
 * weights (src/runtime/optimized_cache.ts; optimisation and pre-packing off): the optimised
 * weights (NCHWc kernels, padded) mapped from the data file, and little else. Measured as the
 * data file over the graph's weights: 200 / 153 MB = 1.31 for ResNet-50's S&I-A graph, 255 / 235
 * MB = 1.08 for BiT-R101's; RSS after creation +0–10 MB, after a run at batch 1 +247 MB for
 * ResNet-50 (the file's pages and the activations).
 */
export const OPTIMIZED_SESSION_FACTOR = 1.35;
/**
 * Transient bytes of opening a cached optimised graph per graph-weight byte: no optimiser, no
 * pre-packing, weights mapped from the file (measured +0–10 MB on ResNet-50 and BiT-R101).
 */
export const OPTIMIZED_CREATION_FACTOR = 0.1;
/**
 * Peak bytes per estimated activation byte. Measured per image of the stacked pass: 164 MB of RSS
 * for an estimate of 137 MB on the WRN-40-2 (341 MB at batch 1, 832 MB at batch 4), 129 MB for
 * an estimate of 146 MB on the ResNet-34; the larger ratio is taken.
 */
export const ACTIVATION_FACTOR = 1.2;

/** What the memory of one model's engine is made of, in bytes. */
export interface ModelMemory {
  readonly budgetBytes: number;
  /** The model file, kept in JavaScript (the parsed ModelProto's tensors are views into it). */
  readonly modelBytes: number;
  /**
   * Weights of a compiled gradient graph: the model's plus the flipped Conv kernels of the
   * input gradients (src/grad/rules/conv.ts), at most twice the model's.
   */
  readonly graphBytes: number;
  /** Whether sessions are created from serialized bytes rather than from a file. */
  readonly fromBytes: boolean;
}

function sessionBytes(m: ModelMemory): number {
  return SESSION_FACTOR * m.graphBytes;
}

function creationBytes(m: ModelMemory): number {
  return (CREATION_FACTOR + (m.fromBytes ? BYTES_CREATION_FACTOR : 0)) * m.graphBytes;
}

/**
 * How many compiled sessions the engine keeps alive (at most `maxSessions`, at least 1): half of
 * what the budget leaves after one session's creation may hold further sessions, the other half
 * is left for activations.
 */
export function sessionSlots(m: ModelMemory, maxSessions: number): number {
  const spare = m.budgetBytes - BASE_BYTES - m.modelBytes - creationBytes(m);
  const extra = Math.floor(spare / sessionBytes(m) / 2);
  return Math.max(1, Math.min(maxSessions, 1 + (Number.isFinite(extra) ? extra : maxSessions)));
}

/** What one compiled gradient graph and its runs are sized to. */
export interface MemoryPlan {
  /** Images per onnxruntime run. */
  readonly batch: number;
  /** Splits per stacked remainder pass (all splits: one pass per iteration). */
  readonly splitChunk: number;
  /** Estimated process peak in bytes. */
  readonly peakBytes: number;
}

/** Thrown when even one image with one split per pass does not fit the budget. */
export class MemoryBudgetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MemoryBudgetError";
  }
}

/**
 * The default budget: 75 % of the memory this process may use — the host's, or its container's
 * cgroup limit when lower (a pod limited to 3 GiB on a 64 GiB node must not plan for 48 GiB) —
 * in MB. `MEMORY_BUDGET_MB` overrides it.
 */
export function defaultMemoryBudgetMb(): number {
  let total: number;
  try {
    total = Deno.systemMemoryInfo().total;
  } catch {
    return 4096; // no --allow-sys: a budget that fits most hosts
  }
  const limit = cgroupMemoryLimit() ?? Infinity;
  return Math.floor((Math.min(total, limit) * 0.75) / 2 ** 20);
}

/**
 * The memory limit of this process's cgroup in bytes (v2 `memory.max`, v1
 * `memory.limit_in_bytes`), or undefined when there is none or it cannot be read.
 */
export function cgroupMemoryLimit(
  read: (path: string) => string = Deno.readTextFileSync,
): number | undefined {
  for (const path of ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]) {
    let text: string;
    try {
      text = read(path).trim();
    } catch {
      continue; // absent (not Linux, other cgroup layout) or no --allow-read
    }
    const bytes = Number(text);
    // "max" (v2) or a page-rounded 2^63 (v1) mean no limit.
    if (Number.isFinite(bytes) && bytes > 0 && bytes < 2 ** 60) return bytes;
    return undefined;
  }
  return undefined;
}

/**
 * Tensors before the first split counted as alive at once: the largest few, enough for a node's
 * inputs and output plus a residual branch's, and the arena's slack: with 8, the estimate × 1.2
 * covers ResNet-50's S&I-A at batch 8 (52 MB per image measured).
 */
const EARLY_LIVE = 8;

/** Bytes per image of each batch-dependent float tensor, in node order (probed shapes). */
function tensorBytes(graph: Graph, shapes: ShapeMap): { name: string; bytes: number }[] {
  const out: { name: string; bytes: number }[] = [];
  for (const n of graph.nodes) {
    for (const o of n.output ?? []) {
      const info = o ? shapes.get(o) : undefined;
      if (!info || info.type !== "float32" || info.dims[0] !== -1) continue;
      out.push({ name: o, bytes: 4 * info.dims.slice(1).reduce((a, b) => a * b, 1) });
    }
  }
  return out;
}

/**
 * Estimated activation bytes per image of the largest stacked pass when splits are stacked
 * `chunk` at a time (chunks of consecutive splits), and of the forward + two-seed backward pass.
 */
export function activationBytesPerImage(
  graph: Graph,
  shapes: ShapeMap,
  splits: readonly string[],
  iterations: number,
  chunk: number,
): number {
  const tensors = tensorBytes(graph, shapes);
  const position = new Map(tensors.map((t, i) => [t.name, i]));
  const at = splits.map((s) => position.get(s) ?? 0);
  // Iteration 0: the forward pass, and a backward carrying two cotangents that stops at the
  // first split (S&I-A's splits are the last normalizations, so its backward is short). Before
  // the first split nothing is kept for the backward pass: onnxruntime frees a tensor after its
  // last reader, so a few of them (a node's inputs and output, a residual) are alive at once.
  const first = Math.min(...at, tensors.length);
  const early = tensors.slice(0, first).map((t) => t.bytes).sort((a, b) => b - a);
  const transient = early.slice(0, EARLY_LIVE).reduce((a, b) => a + b, 0);
  const late = tensors.slice(first).reduce((a, t) => a + t.bytes, 0);
  let worst = transient + 3 * late; // late forward activations kept, two backward streams
  if (iterations < 2 || splits.length === 0) return worst;
  for (let first = 0; first < splits.length; first += chunk) {
    const starts = at.slice(first, first + chunk);
    let bytes = 0;
    tensors.forEach((t, i) => {
      const streams = starts.filter((p) => p <= i).length;
      bytes += streams * t.bytes;
    });
    worst = Math.max(worst, bytes); // forward activations kept for the backward pass
  }
  return worst;
}

/**
 * Weight bytes of a compiled gradient graph with these splits: the model's initializers, plus a
 * flipped copy of every Conv kernel the backward passes through (src/grad/rules/conv.ts), i.e. of
 * the Convs after the earliest split in node order.
 */
export function gradientGraphWeightBytes(graph: Graph, splits: readonly string[]): number {
  const bytesOf = (name: string) => {
    const t = graph.initializers.get(name);
    if (!t) return 0;
    const n = (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1);
    return t.rawData?.length ? t.rawData.length : 4 * n;
  };
  let total = 0;
  for (const name of graph.initializers.keys()) total += bytesOf(name);
  const split = new Set(splits);
  let downstream = false; // node order is topological: after the first split, all is downstream
  for (const n of graph.nodes) {
    if (downstream && n.opType === "Conv") total += bytesOf(n.input?.[1] ?? "");
    downstream ||= (n.output ?? []).some((o) => split.has(o));
  }
  return total;
}

/**
 * The plan for a budget: the largest batch (up to `maxBatch`) for the largest split chunk, trading
 * chunk size for batch where both cannot be had (the score is images × splits per pass). The
 * process peak is the model and the other `slots − 1` sessions, plus the larger of this
 * session's creation and this session with its activations — the session's own terms smaller
 * where it opens from a cached optimised graph (`warm`), so a restart plans what it will use.
 * @throws {MemoryBudgetError} when one image with one split per pass does not fit.
 */
export function planMemory(
  opts: ModelMemory & {
    readonly slots: number;
    readonly maxBatch: number;
    readonly splitCount: number;
    /** Activation bytes per image for a split chunk size. */
    readonly perImage: (chunk: number) => number;
    /**
     * Whether the session for a split chunk size opens from onnxruntime's cached optimised graph
     * (cheaper to create and to hold); cold by default.
     */
    readonly warm?: (chunk: number) => boolean;
  },
): MemoryPlan {
  const held = BASE_BYTES + opts.modelBytes + (opts.slots - 1) * sessionBytes(opts);
  const chunks = new Set<number>();
  for (let c = Math.max(1, opts.splitCount); c >= 1; c = c > 1 ? Math.ceil(c / 2) : 0) {
    chunks.add(c);
    if (c === 1) break;
  }
  let best: MemoryPlan | undefined;
  let smallest = Infinity;
  for (const chunk of chunks) {
    const warm = opts.warm?.(chunk) ?? false;
    const session = warm ? OPTIMIZED_SESSION_FACTOR * opts.graphBytes : sessionBytes(opts);
    const creation = warm ? OPTIMIZED_CREATION_FACTOR * opts.graphBytes : creationBytes(opts);
    const per = ACTIVATION_FACTOR * opts.perImage(chunk);
    smallest = Math.min(smallest, held + Math.max(creation, session + per));
    if (held + creation > opts.budgetBytes) continue;
    const batch = Math.min(
      opts.maxBatch,
      Math.floor((opts.budgetBytes - held - session) / per),
    );
    if (batch < 1) continue;
    const plan = {
      batch,
      splitChunk: chunk,
      peakBytes: held + Math.max(creation, session + batch * per),
    };
    if (!best || batch * chunk > best.batch * best.splitChunk) best = plan;
  }
  if (!best) {
    const mb = (b: number) => Math.ceil(b / 2 ** 20);
    throw new MemoryBudgetError(
      `Memory budget of ${mb(opts.budgetBytes)} MB is too small for this model: even one image ` +
        `with one split per pass needs about ${mb(smallest)} MB; raise MEMORY_BUDGET_MB ` +
        `(or --memory-budget-mb)`,
    );
  }
  return best;
}
