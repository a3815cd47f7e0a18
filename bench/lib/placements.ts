/**
 * Which execution provider runs each node of a model — the way to find ops that fell back to
 * the CPU on WebGPU (each fallback costs a GPU↔CPU copy per run).
 *
 * The facts come from onnxruntime's own verbose "Node placements" log, taken after graph
 * optimization, so they describe the nodes that actually run (fused ones included).
 * @module
 */
import type { Runtime } from "../../src/runtime/types.ts";
import { loadedBackends } from "../../src/runtime/runtime.ts";
import { captureWasmLog } from "./log_capture.ts";
import { readModel } from "../../src/onnx/proto.ts";

/** A node as onnxruntime names it after optimization. */
export interface PlacedNode {
  readonly op: string;
  readonly name: string;
}

/** The nodes one execution provider runs. `nodes` is empty when the log gave only a count. */
export interface Placement {
  readonly provider: string;
  readonly count: number;
  readonly nodes: readonly PlacedNode[];
}

/** All placements of a model on a backend. */
export interface PlacementReport {
  readonly backend: string;
  readonly placements: readonly Placement[];
  /** On webgpu: the nodes on the CPU provider, copies excluded. Empty on CPU backends. */
  readonly cpuFallbacks: readonly PlacedNode[];
  /**
   * Names of the nodes onnxruntime put on the CPU on purpose ("Candidate for fallback CPU
   * execution": small shape computations whose inputs live on the host anyway). The other CPU
   * nodes (and nodes fed only by these) are the ones to look at first.
   */
  readonly cpuByChoice: readonly string[];
  /**
   * "log": parsed from onnxruntime's log. "assumed": onnxruntime-node logs from C++ to the
   * process's stderr, which cannot be read in-process; it registers only the CPU provider, so
   * every node of the (unoptimized) model is reported there.
   */
  readonly source: "log" | "assumed";
}

const HEADER = /Node placements/;
const ALL = /All nodes placed on \[(\w+)\]\. Number of nodes: (\d+)/;
const SOME = /Node\(s\) placed on \[(\w+)\]\. Number of nodes: (\d+)/;
const NODE = /\]\s{3}(\S+) \((.*)\)\s*$/;
const CHOSEN = /Candidate for fallback CPU execution: (.+?)\s*$/;

/** Names from onnxruntime's "Candidate for fallback CPU execution" lines. */
export function parseCpuChoices(lines: readonly string[]): string[] {
  return lines.flatMap((l) => CHOSEN.exec(l)?.[1] ?? []);
}

/** Parses onnxruntime's verbose "Node placements" lines. */
export function parsePlacements(lines: readonly string[]): Placement[] {
  const out: { provider: string; count: number; nodes: PlacedNode[] }[] = [];
  let inside = false;
  for (const line of lines) {
    if (HEADER.test(line)) {
      inside = true; // subgraphs (If/Loop bodies) add further listings; keep them all
      continue;
    }
    if (!inside) continue;
    const all = ALL.exec(line) ?? SOME.exec(line);
    if (all) {
      out.push({ provider: all[1], count: Number(all[2]), nodes: [] });
      continue;
    }
    const node = NODE.exec(line);
    if (node && out.length) {
      out[out.length - 1].nodes.push({ op: node[1], name: node[2] });
      continue;
    }
    if (!line.includes("VerifyEachNodeIsAssignedToAnEp")) inside = false;
  }
  return out;
}

/** Creates a throw-away verbose session of `model` and reports where its nodes run. */
export async function nodePlacements(
  runtime: Runtime,
  model: Uint8Array,
): Promise<PlacementReport> {
  const lb = loadedBackends.get(runtime);
  if (!lb || !lb.capturableLog) {
    const nodes = (readModel(model).graph?.node ?? []).map((n) => ({
      op: n.opType ?? "",
      name: n.name || n.output?.[0] || "",
    }));
    return {
      backend: runtime.backend,
      placements: [{ provider: "CPUExecutionProvider", count: nodes.length, nodes }],
      cpuFallbacks: [],
      cpuByChoice: [],
      source: "assumed",
    };
  }
  const { lines } = await captureWasmLog(async () => {
    const s = await runtime.createSession(model, { verbose: true });
    await s.release();
  });
  const placements = parsePlacements(lines);
  if (!placements.length) {
    throw new Error(`onnxruntime logged no "Node placements" on backend "${runtime.backend}"`);
  }
  const cpuFallbacks = runtime.backend === "webgpu"
    ? placements.filter((p) => p.provider === "CPUExecutionProvider")
      .flatMap((p) => p.nodes).filter((n) => !n.op.startsWith("Memcpy"))
    : [];
  const cpuByChoice = runtime.backend === "webgpu" ? parseCpuChoices(lines) : [];
  return { backend: runtime.backend, placements, cpuFallbacks, cpuByChoice, source: "log" };
}
