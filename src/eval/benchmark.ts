/**
 * The evaluation run behind `deno task eval`: read the sets, score them per method/settings
 * (cached), compute the metrics, print the tables and write the report.
 * @module
 */
import { type InputItem, readInputs } from "../inputs/mod.ts";
import type { LoadedModel } from "../models/types.ts";
import type { AdvLoss, Integration, Method, ScoreSettings } from "../contract/scoring.ts";
import type { BackendName } from "../contract/backends.ts";
import { isIterative } from "../contract/methods.ts";
import { isFused } from "../contract/fusion.ts";
import { ScoreCache } from "./cache.ts";
import { ProgressBar } from "./progress.ts";
import {
  computeRun,
  formatRunTable,
  formatSummary,
  type RunResult,
  type RunScores,
  writeReport,
} from "./report.ts";
import { scoreFusedInputs, scoreInputs } from "./run.ts";

/** What to evaluate. Undefined α/T/loss/integration mean "the model's defaults". */
export interface EvalArgs {
  readonly model: string;
  readonly id: readonly string[];
  readonly ood: ReadonlyArray<{ readonly name: string; readonly specs: readonly string[] }>;
  readonly methods: readonly Method[];
  readonly out?: string;
  readonly alphas?: readonly number[];
  readonly iterations?: readonly number[];
  readonly loss?: AdvLoss;
  readonly integrate?: Integration;
  readonly limit?: number;
  readonly backend: BackendName;
  readonly batch: number;
  /** Cache root, or undefined with --no-cache. */
  readonly cache?: string;
}

/** Where the benchmark prints. */
export interface BenchmarkIO {
  /** Receives the tables (stdout in the CLI). */
  readonly print: (text: string) => void;
  readonly progress?: ProgressBar | ((total: number) => ProgressBar);
}

/** Reads the images of some specs, at most `limit` of them. */
export async function readSet(specs: readonly string[], limit?: number): Promise<InputItem[]> {
  const items: InputItem[] = [];
  if (limit === 0) return items;
  for await (const item of readInputs(specs)) {
    items.push(item);
    if (limit !== undefined && items.length >= limit) break;
  }
  return items;
}

/**
 * The settings to run: one per method, and for `si` and `si_a` one per (α, T) pair (the
 * ablation grid).
 * Unset values come from the model's defaults.
 */
export function runSettings(args: EvalArgs, defaults: ScoreSettings): ScoreSettings[] {
  const base: ScoreSettings = {
    ...defaults,
    loss: args.loss ?? defaults.loss,
    integrate: args.integrate ?? defaults.integrate,
  };
  const out: ScoreSettings[] = [];
  for (const method of args.methods) {
    if (!isIterative(method)) {
      out.push({ ...base, method });
      continue;
    }
    for (const alpha of args.alphas ?? [defaults.alpha]) {
      for (const iterations of args.iterations ?? [defaults.iterations]) {
        out.push({ ...base, method, alpha, iterations });
      }
    }
  }
  return out;
}

/** Runs the whole evaluation of `model`; returns the per-run results. */
export async function runBenchmark(
  model: LoadedModel,
  args: EvalArgs,
  io: BenchmarkIO,
): Promise<RunResult[]> {
  const id = await readSet(args.id, args.limit);
  const ood = new Map<string, InputItem[]>();
  for (const set of args.ood) ood.set(set.name, await readSet(set.specs, args.limit));
  if (id.length === 0) {
    throw new Error(`Cannot evaluate: the ID inputs ${args.id.join(" ")} are empty`);
  }
  for (const [name, items] of ood) {
    if (items.length === 0) throw new Error(`Cannot evaluate: OOD set "${name}" is empty`);
  }
  const settings = runSettings(args, model.defaults);
  const perRun = id.length + [...ood.values()].reduce((a, s) => a + s.length, 0);
  const bar = typeof io.progress === "function"
    ? io.progress(settings.length * perRun)
    : io.progress ?? new ProgressBar(settings.length * perRun);
  const cache = args.cache ? await ScoreCache.open(args.cache, model) : undefined;

  const runs: RunScores[] = [];
  for (const s of settings) {
    const score = async (name: string, items: InputItem[]) => {
      const iterative = isIterative(s.method);
      bar.label(`${iterative ? `${s.method} α=${s.alpha} T=${s.iterations}` : s.method}: ${name}`);
      let last = 0;
      const run = isFused(s) ? scoreFusedInputs : scoreInputs;
      return await run(model, items, s, {
        batch: args.batch,
        cache,
        onProgress: (done, fromCache) => {
          bar.advance(done - last, fromCache);
          last = done;
        },
      });
    };
    const idScores = await score("ID", id);
    const oodScores = new Map();
    for (const [name, items] of ood) oodScores.set(name, await score(name, items));
    runs.push({ method: s.method, settings: s, id: idScores, ood: oodScores });
  }
  bar.finish();

  const results = runs.map(computeRun);
  const sets = [...ood].map(([n, items]) => `${n} (${items.length})`).join(", ");
  io.print(
    `Model ${model.id} (${model.backend}); ID: ${args.id.join(" ")} (${id.length}); OOD: ${sets}\n`,
  );
  for (const r of results) io.print(formatRunTable(r) + "\n");
  io.print("Summary (FPR95: authors' convention, ID positive; FPR95-OOD: OpenOOD's, OOD positive)");
  io.print(formatSummary(results) + "\n");
  if (args.out) {
    const meta = {
      model: { id: model.id, backend: model.backend, dir: model.dir },
      id: { specs: args.id, count: id.length },
      ood: args.ood.map((o) => ({ name: o.name, specs: o.specs, count: ood.get(o.name)!.length })),
      limit: args.limit ?? null,
    };
    const files = await writeReport(args.out, meta, runs, results);
    io.print(`Wrote ${files.length} files to ${args.out}`);
  }
  return results;
}
