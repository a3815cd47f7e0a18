/**
 * Facts about the benchmark host and process memory (Linux /proc).
 * @module
 */
import { getRuntime } from "../src/runtime/runtime.ts";
import type { BackendName } from "../src/contract/backends.ts";

/** What a result file says about the machine it came from. */
export interface HostInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly deno: string;
  readonly v8: string;
  readonly onnxruntime: Record<string, string>;
  readonly gpuAdapter: string;
  readonly date: string;
  /**
   * 1-minute load average when the run started: other processes on the machine. Above the core
   * count, every number in the run is inflated by CPU contention.
   */
  readonly loadAverage: number;
}

function readProc(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** Collects host facts; `backends` are the loaded backends whose versions to report. */
export async function hostInfo(backends: readonly BackendName[]): Promise<HostInfo> {
  const cpu = /model name\s*:\s*(.+)/.exec(readProc("/proc/cpuinfo"))?.[1]?.trim() ?? "unknown";
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(readProc("/proc/meminfo"))?.[1] ?? 0);
  const onnxruntime: Record<string, string> = {};
  let gpuAdapter = "none";
  for (const b of backends) {
    const rt = await getRuntime(b);
    onnxruntime[b] = String(rt.info.version ?? "");
    if (b === "webgpu") {
      gpuAdapter = `${rt.info.adapter}${
        rt.info.fallbackAdapter ? " (software fallback adapter)" : ""
      }`;
    }
  }
  if (!backends.includes("webgpu")) gpuAdapter = await adapterOnly();
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    memoryGiB: Math.round((memKb / 1024 / 1024) * 10) / 10,
    os: `${Deno.build.os} ${Deno.build.arch} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    onnxruntime,
    gpuAdapter,
    date: new Date().toISOString(),
    loadAverage: loadAverage(),
  };
}

async function adapterOnly(): Promise<string> {
  const gpu = (navigator as unknown as {
    gpu?: { requestAdapter(): Promise<{ info?: { description?: string } } | null> };
  }).gpu;
  const a = await gpu?.requestAdapter().catch(() => null);
  return a ? a.info?.description || "unnamed adapter" : "none";
}

/** The 1-minute load average (NaN where /proc/loadavg is missing). */
export function loadAverage(): number {
  return Number(readProc("/proc/loadavg").split(" ")[0] || NaN);
}

/** Current and peak resident memory of this process in MiB (VmRSS, VmHWM). */
export function memoryMiB(): { rss: number; peak: number } {
  const s = readProc("/proc/self/status");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
  return { rss: Math.round(kb("VmRSS") / 1024), peak: Math.round(kb("VmHWM") / 1024) };
}

/**
 * Resets the kernel's peak-RSS mark (VmHWM) to the current RSS, so the next reading is the
 * peak of what runs in between. Returns false where /proc/self/clear_refs is not writable.
 */
export function resetPeakMemory(): boolean {
  try {
    Deno.writeTextFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}
