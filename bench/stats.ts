/**
 * Timing loop and statistics for benchmark workloads.
 * @module
 */

/** How long to measure one workload. */
export interface TimingPlan {
  /** Untimed runs first (session warm-up, kernel compilation, allocator growth). */
  readonly warmup: number;
  /** At least this many timed runs… */
  readonly minRuns: number;
  /** …and keep going until this much time was spent timing… */
  readonly minMs: number;
  /** …but stop after this many runs or this much time, whichever comes first. */
  readonly maxRuns: number;
  readonly maxMs: number;
}

/** Full runs: long enough for stable p95s on a noisy shared machine. */
export const FULL_PLAN: TimingPlan = {
  warmup: 2,
  minRuns: 5,
  minMs: 3000,
  maxRuns: 200,
  maxMs: 20000,
};
/**
 * WebGPU on a software adapter (llvmpipe): seconds per run and numbers that say nothing about
 * GPUs — measured only to show the path works, with as few runs as possible.
 */
export const SOFTWARE_GPU_PLAN: TimingPlan = {
  warmup: 1,
  minRuns: 1,
  minMs: 0,
  maxRuns: 3,
  maxMs: 5000,
};
/** `--quick`: a smoke test of the harness, not a measurement to quote. */
export const QUICK_PLAN: TimingPlan = {
  warmup: 1,
  minRuns: 2,
  minMs: 200,
  maxRuns: 20,
  maxMs: 1500,
};

/**
 * `--timing once`: one untimed and one timed run per workload — for the 224-pixel models on wasm,
 * where a batch of S&I takes tens of seconds on 2 cores; p50 and p95 are that one run.
 */
export const ONCE_PLAN: TimingPlan = {
  warmup: 1,
  minRuns: 1,
  minMs: 0,
  maxRuns: 1,
  maxMs: 0,
};

/** Timing plans by `--timing` name. */
export const PLANS: Record<string, TimingPlan> = {
  full: FULL_PLAN,
  quick: QUICK_PLAN,
  once: ONCE_PLAN,
};

/** Run times in milliseconds. */
export async function timeRuns(run: () => Promise<void>, plan: TimingPlan): Promise<number[]> {
  await warmUp([run], plan);
  const times: number[] = [];
  const start = performance.now();
  while (times.length < plan.maxRuns) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
    const spent = performance.now() - start;
    if (spent >= plan.maxMs) break;
    if (times.length >= plan.minRuns && spent >= plan.minMs) break;
  }
  return times;
}

/**
 * Times several operations in alternation (a, b, a, b, …) so that load from other processes on a
 * shared machine hits them alike; one array of run times per operation.
 */
export async function timeInterleaved(
  runs: readonly (() => Promise<void>)[],
  plan: TimingPlan,
): Promise<number[][]> {
  await warmUp(runs, plan);
  const times = runs.map(() => [] as number[]);
  const start = performance.now();
  while (times[0].length < plan.maxRuns) {
    for (const [k, r] of runs.entries()) {
      const t0 = performance.now();
      await r();
      times[k].push(performance.now() - t0);
    }
    const spent = performance.now() - start;
    if (spent >= plan.maxMs * runs.length) break;
    if (times[0].length >= plan.minRuns && spent >= plan.minMs * runs.length) break;
  }
  return times;
}

/**
 * Runs each operation `plan.warmup` times, untimed — but only once when that first round
 * already took longer than `plan.minMs`: a run that long amortizes its own warm-up, and more
 * rounds would only stretch a full benchmark by minutes.
 */
async function warmUp(runs: readonly (() => Promise<void>)[], plan: TimingPlan): Promise<void> {
  for (let i = 0; i < plan.warmup; i++) {
    const t0 = performance.now();
    for (const r of runs) await r();
    if (performance.now() - t0 > plan.minMs) return;
  }
}

/** The q-quantile (0 ≤ q ≤ 1) with linear interpolation. */
export function quantile(values: readonly number[], q: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** Summary of the run times of a workload that handles `batch` images per run. */
export interface TimingSummary {
  readonly runs: number;
  readonly batchMsP50: number;
  readonly batchMsP95: number;
  readonly msPerImageP50: number;
  readonly msPerImageP95: number;
  readonly imagesPerSec: number;
}

/** Summarizes run times; per-image numbers divide a run's time by the batch size. */
export function summarize(times: readonly number[], batch: number): TimingSummary {
  const total = times.reduce((a, b) => a + b, 0);
  const p50 = quantile(times, 0.5), p95 = quantile(times, 0.95);
  return {
    runs: times.length,
    batchMsP50: round(p50),
    batchMsP95: round(p95),
    msPerImageP50: round(p50 / batch),
    msPerImageP95: round(p95 / batch),
    imagesPerSec: round((batch * times.length) / (total / 1000)),
  };
}

/** Rounds to 3 significant decimals for readable JSON. */
export function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
