/**
 * Per-operator time of a graph on the native backend, from onnxruntime's own profiler: the way
 * to see what dominates a scoring graph (convolutions, layout reorders, concatenations …).
 * @module
 */
import type { HostTensor, Runtime } from "../../src/runtime/types.ts";
import { loadedBackends } from "../../src/runtime/runtime.ts";
import { optimizationOptions } from "../../src/runtime/optimization.ts";

/** Time spent in one operator type during one run. */
export interface OpTime {
  readonly op: string;
  readonly ms: number;
  /** Share of all kernel time in the run, 0–1. */
  readonly share: number;
  /** Kernel launches of this op type in the run. */
  readonly count: number;
}

/** A profiled run: wall time and kernel time per op type, largest first. */
export interface OpProfile {
  readonly runMs: number;
  readonly kernelMs: number;
  readonly ops: readonly OpTime[];
}

interface TraceEvent {
  cat?: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

/**
 * Runs `model` twice on a native runtime with profiling on (the first run warms up)
 * and summarizes the last run. The profiler's JSON file is written to a temp dir and removed.
 */
export async function profileOps(
  runtime: Runtime,
  model: Uint8Array,
  feeds: Record<string, HostTensor>,
): Promise<OpProfile> {
  const lb = loadedBackends.get(runtime);
  if (!lb || lb.backend !== "native") {
    throw new Error("profileOps() needs the native runtime (onnxruntime-node writes the profile)");
  }
  const dir = await Deno.makeTempDir({ prefix: "ort-profile-" });
  try {
    const session = await lb.ort.InferenceSession.create(model, {
      executionProviders: [...lb.executionProviders],
      ...lb.sessionOptions,
      ...optimizationOptions("product"),
      enableProfiling: true,
      profileFilePrefix: `${dir}/profile`,
    });
    const ortFeeds = Object.fromEntries(
      Object.entries(feeds).map(([k, t]) => [k, new lb.ort.Tensor(t.type, t.data, t.dims)]),
    );
    for (let i = 0; i < 2; i++) await session.run(ortFeeds);
    session.endProfiling();
    await session.release();
    const file = [...Deno.readDirSync(dir)].find((e) => e.name.endsWith(".json"));
    if (!file) throw new Error("onnxruntime wrote no profile");
    return summarizeTrace(JSON.parse(await Deno.readTextFile(`${dir}/${file.name}`)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Summarizes a Chrome-trace profile: the last `model_run` and the kernels inside it. */
export function summarizeTrace(events: readonly TraceEvent[]): OpProfile {
  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run");
  const last = runs.at(-1);
  if (!last) throw new Error("The profile has no model_run event");
  const byOp = new Map<string, { us: number; count: number }>();
  for (const e of events) {
    if (e.cat !== "Node" || !e.name.endsWith("_kernel_time")) continue;
    if (e.ts < last.ts || e.ts > last.ts + last.dur) continue;
    const op = e.args?.op_name ?? "?";
    const entry = byOp.get(op) ?? { us: 0, count: 0 };
    entry.us += e.dur;
    entry.count++;
    byOp.set(op, entry);
  }
  const totalUs = [...byOp.values()].reduce((s, v) => s + v.us, 0);
  const ops = [...byOp.entries()]
    .map(([op, v]) => ({
      op,
      ms: v.us / 1000,
      share: totalUs ? v.us / totalUs : 0,
      count: v.count,
    }))
    .sort((a, b) => b.ms - a.ms);
  return { runMs: last.dur / 1000, kernelMs: totalUs / 1000, ops };
}
