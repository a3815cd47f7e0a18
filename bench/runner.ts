/**
 * Runs workloads: builds them per model × backend × batch, times them and records peak memory.
 * @module
 */
import { getRuntime } from "../src/runtime/runtime.ts";
import type { BackendName } from "../src/contract/backends.ts";
import type { Runtime } from "../src/runtime/types.ts";
import { convPair, WRN_STAGES } from "./convt.ts";
import { memoryMiB, resetPeakMemory } from "./host.ts";
import type { MicroResult, PlacementSummary, WorkloadResult } from "./report.ts";
import { nodePlacements } from "./lib/placements.ts";
import {
  quantile,
  round,
  SOFTWARE_GPU_PLAN,
  summarize,
  timeInterleaved,
  timeRuns,
  type TimingPlan,
} from "./stats.ts";
import {
  benchInput,
  type BenchModel,
  type Workload,
  type WorkloadContext,
  type WorkloadFactory,
} from "./workload.ts";

/** Times one workload; the peak RSS is measured around it when the kernel allows resetting it. */
export async function measure(w: Workload, plan: TimingPlan): Promise<WorkloadResult> {
  const rssBefore = memoryMiB().rss;
  const canPeak = resetPeakMemory();
  const times = await timeRuns(() => w.run(), plan);
  const result: WorkloadResult = {
    workload: w.name,
    model: w.model,
    backend: w.backend,
    batch: w.batch,
    ...summarize(times, w.batch),
    peakMiB: canPeak ? memoryMiB().peak : null,
    rssBeforeMiB: rssBefore,
  };
  console.log(
    `  ${w.model} ${w.name} ${w.backend} b${w.batch}: ${result.msPerImageP50} ms/image p50, ` +
      `${result.imagesPerSec} images/s, peak ${result.peakMiB ?? "?"} MiB`,
  );
  return result;
}

/**
 * Every factory × model × backend × batch; shared values are disposed per (model, backend).
 * With `quick`, workloads other than the forward pass run on the first model and backend only
 * (compiling a scoring graph takes longer than a quick run may); on a software GPU adapter only
 * the forward pass runs.
 */
export async function runModelWorkloads(args: {
  models: readonly BenchModel[];
  backends: readonly BackendName[];
  batches: readonly number[];
  factories: readonly WorkloadFactory[];
  plan: TimingPlan;
  quick?: boolean;
}): Promise<WorkloadResult[]> {
  const results: WorkloadResult[] = [];
  for (const model of args.models) {
    for (const backend of args.backends) {
      const runtime = await getRuntime(backend);
      const software = runtime.info.fallbackAdapter === true;
      const plan = software
        ? { ...SOFTWARE_GPU_PLAN, maxMs: Math.min(args.plan.maxMs, 5000) }
        : args.plan;
      const shared = new Map<
        string,
        { value: Promise<unknown>; dispose?: (v: never) => Promise<void> }
      >();
      try {
        for (const batch of args.batches) {
          const ctx = context(model, backend, runtime, batch, shared);
          for (const f of args.factories) {
            const first = model === args.models[0] && backend === args.backends[0];
            if (args.quick && f.name !== "forward" && !first) continue;
            if (args.quick && f.name === "si-loop") continue; // minutes, not seconds
            // One S&I batch takes minutes on llvmpipe; the forward pass shows the path works.
            if (software && f.name !== "forward") continue;
            const w = await f.create(ctx);
            if (w) results.push(await measure(w, plan));
          }
        }
      } finally {
        for (const { value, dispose } of shared.values()) {
          if (dispose) await dispose((await value) as never);
        }
      }
    }
  }
  return results;
}

function context(
  model: BenchModel,
  backend: BackendName,
  runtime: Runtime,
  batch: number,
  shared: Map<string, { value: Promise<unknown>; dispose?: (v: never) => Promise<void> }>,
): WorkloadContext {
  return {
    model,
    backend,
    runtime,
    batch,
    input: benchInput(batch, model.inputDims),
    shared<T>(key: string, make: () => Promise<T>, dispose?: (v: T) => Promise<void>) {
      let entry = shared.get(key);
      if (!entry) {
        entry = { value: make(), dispose: dispose as ((v: never) => Promise<void>) | undefined };
        shared.set(key, entry);
      }
      return entry.value as Promise<T>;
    },
  };
}

/** ConvTranspose vs flipped Conv at batch 16, for each WRN-40-2 stage (quick: the middle one). */
export async function runMicro(args: {
  runtimes: readonly Runtime[];
  quick: boolean;
  plan: TimingPlan;
}): Promise<MicroResult[]> {
  const batch = 16;
  const shapes = args.quick ? [WRN_STAGES[1]] : WRN_STAGES;
  const out: MicroResult[] = [];
  for (const rt of args.runtimes) {
    for (const s of shapes) {
      const pair = await convPair(rt, s, batch);
      try {
        const [timesT, timesC] = await timeInterleaved(
          pair.workloads.map((w) => () => w.run()),
          args.plan,
        );
        const convTransposeMsP50 = round(quantile(timesT, 0.5));
        const convMsP50 = round(quantile(timesC, 0.5));
        const r: MicroResult = {
          shape: pair.workloads[0].model,
          backend: rt.backend,
          batch,
          convTransposeMsP50,
          convMsP50,
          ratio: round(convTransposeMsP50 / convMsP50),
          maxAbsDiff: pair.maxAbsDiff,
        };
        console.log(
          `  micro ${r.shape} ${r.backend} b${batch}: ConvTranspose ${convTransposeMsP50} ms, ` +
            `Conv ${convMsP50} ms (${r.ratio}×), max diff ${r.maxAbsDiff.toExponential(1)}`,
        );
        out.push(r);
      } finally {
        await pair.release();
      }
    }
  }
  return out;
}

/** Per model: how many nodes run on the WebGPU provider and which fell back to the CPU. */
export async function webgpuPlacements(models: readonly BenchModel[]): Promise<PlacementSummary[]> {
  const rt = await getRuntime("webgpu");
  const out: PlacementSummary[] = [];
  for (const m of models) {
    const report = await nodePlacements(rt, m.bytes);
    const gpuNodes = report.placements.filter((p) => p.provider === "WebGpuExecutionProvider")
      .reduce((n, p) => n + p.count, 0);
    const chosen = new Set(report.cpuByChoice);
    const cpuFallbacks = report.cpuFallbacks.filter((n) => !chosen.has(n.name))
      .map((n) => `${n.op} (${n.name})`);
    console.log(
      `  webgpu placements ${m.name}: ${gpuNodes} nodes on the GPU, ${chosen.size} shape ` +
        `nodes on the CPU by choice, ${cpuFallbacks.length} other CPU nodes` +
        (cpuFallbacks.length ? `: ${cpuFallbacks.slice(0, 10).join(", ")}` : ""),
    );
    out.push({ model: m.name, gpuNodes, cpuByChoice: chosen.size, cpuFallbacks });
  }
  return out;
}
