/**
 * `deno task compile <model.onnx> [--out DIR] [--splits POLICY|a,b,…] [--backend NAME]`
 *
 * Compiles the backward pass of a classifier into plain ONNX and prints a JSON summary, so a user
 * can see what will run: the model's op counts, the candidate split tensors with their shapes
 * (normalization outputs, Conv outputs, globally pooled features), the chosen splits, and the
 * backward nodes emitted, by op. With `--out`, writes `<name>.grad.onnx` there: the model plus a
 * cotangent input `seed` (shaped like the logits) and one output `grad:<tensor>` per split.
 *
 * Split policies: `normalization` (default; BatchNormalization/InstanceNormalization/
 * GroupNormalization/LayerNormalization outputs, or the Conv outputs when an export folded every
 * normalization away), `normalization+pool` (plus globally pooled features), or explicit tensor
 * names separated by commas.
 * @module
 */
import { basename, join } from "node:path";
import { gradientModel } from "../grad/gradient_model.ts";
import { Graph } from "../onnx/graph.ts";
import { type ModelProto, opsetOf, readModel, writeModel } from "../onnx/proto.ts";
import { probeShapes, type ShapeMap } from "../runtime/shapes.ts";
import { getRuntime, resolveBackend } from "../runtime/runtime.ts";
import type { BackendChoice } from "../runtime/types.ts";

const NORM_OPS = new Set([
  "BatchNormalization",
  "InstanceNormalization",
  "GroupNormalization",
  "LayerNormalization",
]);
const POOL_OPS = new Set(["GlobalAveragePool", "GlobalMaxPool"]);

/** Command-line options of the compile command. */
export interface CompileOptions {
  readonly model: string;
  readonly out?: string;
  readonly splits: string;
  readonly backend: BackendChoice;
}

/** Parses `Deno.args`-style arguments; throws with a usage message on bad input. */
export function parseCompileArgs(args: readonly string[]): CompileOptions {
  const usage =
    "usage: deno task compile <model.onnx> [--out DIR] [--splits normalization|normalization+pool|a,b] [--backend auto|native|wasm|webgpu]";
  let model: string | undefined, out: string | undefined;
  let splits = "normalization", backend = "auto";
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${usage}`);
      return v;
    };
    if (a === "--out") out = value();
    else if (a === "--splits") splits = value();
    else if (a === "--backend") backend = value();
    else if (a.startsWith("--")) throw new Error(`Unknown option ${a}\n${usage}`);
    else if (model) throw new Error(`Only one model can be compiled at a time\n${usage}`);
    else model = a;
  }
  if (!model) throw new Error(usage);
  return { model, out, splits, backend: backend as BackendChoice };
}

/** A candidate split tensor. */
export interface Candidate {
  readonly tensor: string;
  readonly op: string;
  readonly kind: "normalization" | "conv" | "pool";
  /** Static dims; -1 marks the batch dimension. */
  readonly dims: readonly number[];
}

/** Normalization, Conv and global-pool outputs, in graph order. */
export function candidateSplits(graph: Graph, shapes: ShapeMap): Candidate[] {
  const out: Candidate[] = [];
  for (const n of graph.nodes) {
    const op = n.opType!;
    const kind = NORM_OPS.has(op)
      ? "normalization"
      : op === "Conv"
      ? "conv"
      : POOL_OPS.has(op)
      ? "pool"
      : undefined;
    const tensor = n.output?.[0];
    if (!kind || !tensor) continue;
    out.push({ tensor, op, kind, dims: shapes.get(tensor)?.dims ?? [] });
  }
  return out;
}

/** Resolves a split policy (or explicit names) to tensor names. */
export function chooseSplits(policy: string, candidates: Candidate[], shapes: ShapeMap): string[] {
  const of = (kind: Candidate["kind"]) =>
    candidates.filter((c) => c.kind === kind).map((c) => c.tensor);
  if (policy === "normalization" || policy === "normalization+pool") {
    const norms = of("normalization");
    const base = norms.length ? norms : of("conv");
    return policy === "normalization" ? base : [...base, ...of("pool")];
  }
  const names = policy.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !shapes.has(n));
  if (unknown.length) {
    throw new Error(`No tensor named ${unknown.map((n) => `"${n}"`).join(", ")} in the model`);
  }
  return names;
}

const counts = (ops: Iterable<string>) => {
  const c: Record<string, number> = {};
  for (const op of ops) c[op] = (c[op] ?? 0) + 1;
  return Object.fromEntries(Object.entries(c).sort(([a], [b]) => a.localeCompare(b)));
};

/** The input's non-batch dims, which must be static. */
function inputDims(model: ModelProto, graph: Graph): number[] {
  const input = model.graph!.input!.find((i) => i.name === graph.inputNames[0]);
  const dims = input?.type?.tensorType?.shape?.dim ?? [];
  const rest = dims.slice(1).map((d) => (d.dimParam ? -1 : Number(d.dimValue ?? -1)));
  if (!dims.length || rest.some((d) => d <= 0)) {
    throw new Error(
      `Input "${graph.inputNames[0]}" needs static dimensions after the batch (got [${
        dims.map((d) => d.dimParam || d.dimValue).join(", ")
      }])`,
    );
  }
  return rest;
}

/** Compiles a model file; returns the JSON summary (and writes the model when `out` is set). */
export async function compile(opts: CompileOptions): Promise<Record<string, unknown>> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(opts.model);
  } catch (e) {
    throw new Error(`Cannot read "${opts.model}": ${(e as Error).message}`);
  }
  const model = readModel(bytes, opts.model);
  const graph = new Graph(model);
  if (graph.inputNames.length !== 1) {
    throw new Error(`Expected a single-input classifier, found inputs ${graph.inputNames}`);
  }
  const backend = await resolveBackend(opts.backend);
  const shapes = await probeShapes(model, await getRuntime(backend), inputDims(model, graph));
  const candidates = candidateSplits(graph, shapes);
  const splits = chooseSplits(opts.splits, candidates, shapes);
  if (!splits.length) throw new Error(`Split policy "${opts.splits}" selects no tensor`);
  const gm = gradientModel(model, shapes, splits);
  const baseCount = model.graph!.node!.length;
  const emitted = (gm.model.graph!.node ?? []).slice(baseCount).map((n) => n.opType!);
  const summary: Record<string, unknown> = {
    model: opts.model,
    opset: opsetOf(model),
    backend,
    input: { name: graph.inputNames[0], dims: shapes.get(graph.inputNames[0])?.dims },
    output: { name: gm.output, dims: shapes.get(gm.output)?.dims },
    ops: counts(graph.nodes.map((n) => n.opType!)),
    candidates,
    splits: splits.map((s) => ({ tensor: s, dims: shapes.get(s)?.dims, output: gm.grads.get(s) })),
    emitted: { nodes: emitted.length, ops: counts(emitted) },
  };
  if (opts.out) {
    await Deno.mkdir(opts.out, { recursive: true });
    const file = join(opts.out, `${basename(opts.model).replace(/\.onnx$/i, "")}.grad.onnx`);
    await Deno.writeFile(file, writeModel(gm.model));
    summary.written = file;
  }
  return summary;
}

if (import.meta.main) {
  try {
    const summary = await compile(parseCompileArgs(Deno.args));
    // Dims on one line each: `[-1, 8, 8, 8]`, not one number per line.
    const text = JSON.stringify(summary, null, 2).replace(
      /\[\s+(-?\d+(?:,\s+-?\d+)*)\s+\]/g,
      (_, nums: string) => `[${nums.split(/,\s+/).join(", ")}]`,
    );
    console.log(text);
    Deno.exit(0);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
