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
import type { ShapeMap } from "../runtime/shapes.ts";

/** RSS of the process apart from the model: Deno, onnxruntime, the CLI or HTTP stack. */
export const BASE_BYTES = 120 * 2 ** 20;
/**
 * Bytes held per byte of the model file: the file and its parsed ModelProto, the compiled graph
 * (which adds flipped kernels for the Conv gradients: about twice the weights) in JS, and
 * onnxruntime's session, whose creation alone adds ≈ 620 MB for the 164 MB ResNet-34 graph
 * (measured RSS before and after). Fitted to the CIFAR ResNet-34 (85 MB file): peak RSS 1211 MB
 * at batch 1 with 18 splits per pass, of which ≈ 120 MB are activations.
 */
export const WEIGHT_COPIES = 12;
/**
 * Peak bytes per estimated activation byte. Measured per image of the stacked pass: 164 MB of RSS
 * for an estimate of 137 MB on the WRN-40-2 (341 MB at batch 1, 832 MB at batch 4), 129 MB for
 * an estimate of 146 MB on the ResNet-34; the larger ratio is taken.
 */
export const ACTIVATION_FACTOR = 1.2;

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

/** The default budget: 75 % of the host's memory, in MB (`MEMORY_BUDGET_MB` overrides it). */
export function defaultMemoryBudgetMb(): number {
  try {
    return Math.floor((Deno.systemMemoryInfo().total * 0.75) / 2 ** 20);
  } catch {
    return 4096; // no --allow-sys: a budget that fits most hosts
  }
}

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
  const forward = tensors.reduce((a, t) => a + t.bytes, 0);
  let worst = 3 * forward; // iteration 0: forward, and a backward carrying two cotangents
  if (iterations < 2 || splits.length === 0) return worst;
  const position = new Map(tensors.map((t, i) => [t.name, i]));
  const at = splits.map((s) => position.get(s) ?? 0);
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
 * The plan for a budget: the largest batch (up to `maxBatch`) for the largest split chunk, trading
 * chunk size for batch where both cannot be had (the score is images × splits per pass).
 * @throws {MemoryBudgetError} when one image with one split per pass does not fit.
 */
export function planMemory(
  opts: {
    readonly budgetBytes: number;
    readonly weightBytes: number;
    readonly maxBatch: number;
    readonly splitCount: number;
    /** Activation bytes per image for a split chunk size. */
    readonly perImage: (chunk: number) => number;
  },
): MemoryPlan {
  const fixed = BASE_BYTES + WEIGHT_COPIES * opts.weightBytes;
  const chunks = new Set<number>();
  for (let c = Math.max(1, opts.splitCount); c >= 1; c = c > 1 ? Math.ceil(c / 2) : 0) {
    chunks.add(c);
    if (c === 1) break;
  }
  let best: MemoryPlan | undefined;
  let smallest = Infinity;
  for (const chunk of chunks) {
    const per = ACTIVATION_FACTOR * opts.perImage(chunk);
    smallest = Math.min(smallest, fixed + per);
    const batch = Math.min(opts.maxBatch, Math.floor((opts.budgetBytes - fixed) / per));
    if (batch < 1) continue;
    const plan = { batch, splitChunk: chunk, peakBytes: fixed + batch * per };
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
