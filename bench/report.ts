/**
 * The benchmark's result file format and its markdown rendering.
 * @module
 */
import type { HostInfo } from "./host.ts";
import type { TimingSummary } from "./stats.ts";
import type { LoadBenchResult } from "./load.ts";

/** One measured workload. */
export interface WorkloadResult extends TimingSummary {
  readonly workload: string;
  readonly model: string;
  readonly backend: string;
  readonly batch: number;
  /** Peak resident memory of the process while this workload ran (MiB), when measurable. */
  readonly peakMiB: number | null;
  /**
   * Resident memory when the workload started (MiB): the process also holds every runtime and
   * model loaded so far, so `peakMiB − rssBeforeMiB` is what this workload added.
   */
  readonly rssBeforeMiB: number;
}

/** One ConvTranspose-vs-Conv comparison. */
export interface MicroResult {
  readonly shape: string;
  readonly backend: string;
  readonly batch: number;
  readonly convTransposeMsP50: number;
  readonly convMsP50: number;
  readonly ratio: number;
  readonly maxAbsDiff: number;
}

/** Where a model's nodes ran on webgpu (after onnxruntime's graph optimizations). */
export interface PlacementSummary {
  readonly model: string;
  readonly gpuNodes: number;
  /** Shape computations onnxruntime put on the CPU on purpose. */
  readonly cpuByChoice: number;
  /** "Op (node name)" of every other node on the CPU provider. */
  readonly cpuFallbacks: readonly string[];
}

/** The JSON written under bench/results/. */
export interface BenchReport {
  readonly host: HostInfo;
  readonly options: Record<string, unknown>;
  readonly unavailable: Record<string, string>;
  readonly results: readonly WorkloadResult[];
  readonly micro: readonly MicroResult[];
  readonly webgpuPlacements: readonly PlacementSummary[];
  /** The HTTP load test (`--load`), as `runLoadBench` reports it. */
  readonly load?: LoadBenchResult;
  readonly wallSeconds: number;
  /** 1-minute load average when the run ended. */
  readonly loadAverageEnd?: number;
}

/** Markdown: a host line, the workload table and the microbenchmark table. */
export function toMarkdown(r: BenchReport): string {
  const h = r.host;
  const lines = [
    `Host: ${h.cpu}, ${h.cores} cores, ${h.memoryGiB} GiB; Deno ${h.deno}; onnxruntime ${
      Object.entries(h.onnxruntime).map(([b, v]) => `${b} ${v}`).join(", ")
    }; GPU adapter: ${h.gpuAdapter}; ${
      h.date.slice(0, 16)
    }Z; load average ${h.loadAverage} at the ` +
    `start${r.loadAverageEnd !== undefined ? `, ${r.loadAverageEnd} at the end` : ""}.`,
    "",
    "| model | workload | backend | batch | images/s | ms/image p50 | ms/image p95 | peak RSS MiB | added MiB |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...r.results.map((x) =>
      `| ${x.model} | ${x.workload} | ${x.backend} | ${x.batch} | ${fmt(x.imagesPerSec)} | ${
        fmt(x.msPerImageP50)
      } | ${fmt(x.msPerImageP95)} | ${x.peakMiB ?? "–"} | ${
        x.peakMiB === null || x.rssBeforeMiB === undefined
          ? "–"
          : Math.max(0, x.peakMiB - x.rssBeforeMiB)
      } |`
    ),
  ];
  if (r.micro.length) {
    lines.push(
      "",
      "| layer (C×H×W) | backend | batch | ConvTranspose ms | Conv (flipped) ms | ratio | max abs diff |",
      "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
      ...r.micro.map((m) =>
        `| ${m.shape} | ${m.backend} | ${m.batch} | ${fmt(m.convTransposeMsP50)} | ${
          fmt(m.convMsP50)
        } | ${m.ratio.toFixed(2)}× | ${m.maxAbsDiff.toExponential(1)} |`
      ),
    );
  }
  for (const p of r.webgpuPlacements) {
    const others = p.cpuFallbacks.length
      ? `other CPU nodes: ${p.cpuFallbacks.join(", ")}`
      : "no other CPU nodes";
    lines.push(
      "",
      `WebGPU placements, ${p.model}: ${p.gpuNodes} nodes on the GPU, ${p.cpuByChoice} shape ` +
        `nodes on the CPU by choice, ${others}.`,
    );
  }
  if (r.load) {
    const l = r.load;
    lines.push(
      "",
      `Load test (${l.model} model): ${l.requests} concurrent requests, statuses ${
        JSON.stringify(l.statuses)
      }, latency p50 ${l.latencyMs.p50} ms / p95 ${l.latencyMs.p95} ms, ${l.imagesPerSecond} ` +
        `images/s, lost ${l.lostLines}, duplicated ${l.duplicatedLines}, ok: ${l.ok}.`,
    );
  }
  const missing = Object.entries(r.unavailable);
  if (missing.length) lines.push("", ...missing.map(([b, why]) => `Not measured: ${b} — ${why}`));
  return lines.join("\n");
}

/** 3 significant digits, without exponent notation for the usual ranges. */
function fmt(v: number): string {
  if (!Number.isFinite(v)) return "–";
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}
