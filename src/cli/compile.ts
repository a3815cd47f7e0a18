/**
 * `deno task compile <model.onnx> [--splits POLICY|a,b,…] [--method M] [settings] [--backend B]
 * [--out DIR]`
 *
 * Shows what scoring will run, by running the same path: the S&I engine probes the model, resolves
 * the splits with the service's split policies (`src/si/splits.ts`) and compiles the scoring graph
 * the service would compile for these settings. Prints a JSON summary: the model's op counts, the
 * tensors each split policy selects, the chosen splits with their shapes, and the nodes the
 * compiler added, by op. With `--out`, writes that scoring graph as `<name>.<method>.onnx`.
 * @module
 */
import { basename, join } from "node:path";
import {
  METHODS,
  type ScoreSettings,
  type SplitPolicy,
  splitPolicyOf,
} from "../contract/scoring.ts";
import { DEFAULT_SETTINGS } from "../contract/scoring.ts";
import { canonicalSettings } from "../contract/settings.ts";
import { Graph } from "../onnx/graph.ts";
import { declaredDims } from "../onnx/input_dims.ts";
import { type ModelProto, opsetOf, readModel } from "../onnx/proto.ts";
import type { BackendChoice } from "../contract/backends.ts";
import { resolveBackend } from "../runtime/runtime.ts";
import { SiEngine } from "../engine/engine.ts";
import { resolveSplits } from "../si/splits.ts";
import {
  backendChoice,
  NAMED_SPLIT_POLICIES,
  parseCommand,
  SETTINGS_FLAGS,
  SETTINGS_USAGE,
  settingsFromFlags,
  UsageError,
  usageLine,
} from "./args.ts";
import { isFusedMethod } from "../contract/methods.ts";
import { runMain } from "./run_main.ts";

/** A list for a usage text, its first entry (the default) marked. */
const firstIsDefault = (names: readonly string[]) =>
  [`${names[0]} (default)`, ...names.slice(1)].join(", ");

/** `fused` needs a loaded model's calibration: compile has none to offer. */
const COMPILABLE = METHODS.filter((m) => !isFusedMethod(m));

const USAGE = `Usage: deno task compile <model.onnx> [options]

${usageLine("--splits <policy>", `${firstIsDefault(NAMED_SPLIT_POLICIES)}, or tensor names a,b,…`)}
${usageLine("--method <m>", firstIsDefault(COMPILABLE))}
${SETTINGS_USAGE}
  --backend <b>         auto (default), wasm, native, webgpu (runs the shape probe)
  --out <dir>           write the scoring graph there as <name>.<method>.onnx`;

/** Command-line options of the compile command. */
export interface CompileOptions {
  readonly model: string;
  readonly out?: string;
  /** A split policy name or comma-separated tensor names. */
  readonly splits: string;
  readonly backend: BackendChoice;
  readonly settings: ScoreSettings;
}

/** Parses `Deno.args`-style arguments; throws a {@link UsageError}. Undefined for --help. */
export function parseCompileArgs(argv: readonly string[]): CompileOptions | undefined {
  const { values: f, positionals } = parseCommand(argv, {
    ...SETTINGS_FLAGS,
    splits: { type: "string" },
    backend: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (f.help) return undefined;
  if (positionals.length !== 1) throw new UsageError("expected exactly one <model.onnx>");
  return {
    model: positionals[0],
    out: f.out,
    splits: f.splits ?? "normalization",
    backend: backendChoice(f),
    settings: settingsFromFlags(f, DEFAULT_SETTINGS),
  };
}

/** `--splits` as a policy: a policy name, or tensor names. */
function policyOf(text: string): SplitPolicy {
  const named = NAMED_SPLIT_POLICIES.find((p) => p === text);
  if (named) return splitPolicyOf({ splits: { policy: named } });
  const names = text.split(",").map((s) => s.trim()).filter(Boolean);
  return { kind: "tensors", names };
}

const counts = (ops: Iterable<string>) => {
  const c: Record<string, number> = {};
  for (const op of ops) c[op] = (c[op] ?? 0) + 1;
  return Object.fromEntries(Object.entries(c).sort(([a], [b]) => a.localeCompare(b)));
};

/** The input's non-batch dims, which must be static. */
function inputDims(model: ModelProto, graph: Graph): [number, number, number] {
  const dims = declaredDims(model, graph.inputNames[0]) ?? [];
  const rest = dims.slice(1);
  if (rest.length !== 3 || rest.some((d) => d === undefined)) {
    throw new Error(
      `Input "${graph.inputNames[0]}" must be [N, C, H, W] with static C, H, W (got [${
        dims.map((d) => d ?? "?").join(", ")
      }])`,
    );
  }
  return rest as [number, number, number];
}

/** What each listed split policy selects on this model (or why it selects nothing). */
function policySelections(engine: SiEngine): Record<string, string[] | { error: string }> {
  const out: Record<string, string[] | { error: string }> = {};
  for (const kind of NAMED_SPLIT_POLICIES) {
    try {
      out[kind] = resolveSplits(
        engine.graph,
        engine.shapes,
        splitPolicyOf({ splits: { policy: kind } }),
      );
    } catch (e) {
      out[kind] = { error: (e as Error).message };
    }
  }
  return out;
}

/** Compiles a model file as the service would; returns the JSON summary (and writes the graph). */
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
  const engine = await SiEngine.create({
    modelBytes: bytes,
    backend,
    inputDims: inputDims(model, graph),
    splitPolicy: policyOf(opts.splits),
    source: opts.model,
  });
  const scoring = engine.compile(opts.settings);
  const nodes = readModel(scoring).graph?.node ?? [];
  const emitted = nodes.slice(graph.nodes.length).map((n) => n.opType!);
  const summary: Record<string, unknown> = {
    model: opts.model,
    opset: opsetOf(model),
    backend,
    settings: canonicalSettings(opts.settings),
    input: { name: engine.inputName, dims: engine.shapes.get(engine.inputName)?.dims },
    output: { name: graph.outputNames[0], dims: engine.shapes.get(graph.outputNames[0])?.dims },
    ops: counts(graph.nodes.map((n) => n.opType!)),
    policies: policySelections(engine),
    splits: engine.splits(opts.settings).map((s) => ({
      tensor: s,
      dims: engine.shapes.get(s)?.dims,
    })),
    emitted: { nodes: emitted.length, ops: counts(emitted) },
  };
  if (opts.out) {
    await Deno.mkdir(opts.out, { recursive: true });
    const name = basename(opts.model).replace(/\.onnx$/i, "");
    const file = join(opts.out, `${name}.${opts.settings.method}.onnx`);
    await Deno.writeFile(file, scoring);
    summary.written = file;
  }
  return summary;
}

/** Runs the command; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let opts;
  try {
    opts = parseCompileArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (!opts) {
    console.log(USAGE);
    return 0;
  }
  const summary = await compile(opts);
  // Dims on one line each: `[-1, 8, 8, 8]`, not one number per line.
  const text = JSON.stringify(summary, null, 2).replace(
    /\[\s+(-?\d+(?:,\s+-?\d+)*)\s+\]/g,
    (_, nums: string) => `[${nums.split(/,\s+/).join(", ")}]`,
  );
  console.log(text);
  return 0;
}

if (import.meta.main) await runMain(main);
