/**
 * `deno run -A bench/memory.ts [--models dir,…] [--budgets 512,1024,2048] [--images 32]
 * [--backend native] [--out file]`: peak RSS against the memory budget.
 *
 * For each model directory and budget, runs `deno task score` on noise images in a child process
 * under `/usr/bin/time -v` (peak RSS = "Maximum resident set size") with a cold compile cache,
 * and records the engine's plan (images per run, splits per stacked pass, estimated peak) and the
 * wall time. Writes JSON under bench/results/.
 * @module
 */
import { parseCommand } from "../src/cli/args.ts";
import { join } from "node:path";
import { readManifest } from "../src/models/loader.ts";
import { inputDimsOf } from "../src/models/manifest.ts";
import { splitPolicyOf } from "../src/contract/scoring.ts";
import { SiEngine } from "../src/engine/engine.ts";
import { passSettings } from "../src/contract/fusion.ts";
import { MemoryBudgetError } from "../src/engine/memory_plan.ts";
import { hostInfo } from "./host.ts";

const { values } = parseCommand(Deno.args, {
  models: { type: "string", default: "models/fmnist-wrn40" },
  budgets: { type: "string", default: "512,1024,2048" },
  images: { type: "string", default: "32" },
  backend: { type: "string", default: "native" },
  out: { type: "string" },
});

interface Row {
  model: string;
  budgetMb: number;
  images: number;
  plan?: { batch: number; splitChunk: number; sessionSlots: number; estimatedPeakMb: number };
  error?: string;
  peakRssMb?: number;
  wallSeconds?: number;
  cpuSeconds?: number;
  withinBudget?: boolean;
}

/** The engine's plan for the manifest's default settings (probe only, no compile). */
async function planFor(dir: string, budgetMb: number) {
  const manifest = await readManifest(dir);
  const engine = await SiEngine.create({
    modelBytes: await Deno.readFile(join(dir, manifest.model.file)),
    backend: values.backend as "native",
    inputDims: inputDimsOf(manifest),
    splitPolicy: splitPolicyOf(manifest),
    memoryBudgetMb: budgetMb,
    cacheDir: dir, // as the CLI: sessions are created from compiled files (nothing is compiled here)
  });
  // `fused` runs its gradient component's graph
  const p = engine.plan(passSettings(manifest.defaults, manifest));
  return {
    batch: p.batch,
    splitChunk: p.splitChunk,
    sessionSlots: engine.sessionSlots,
    estimatedPeakMb: Math.round(p.peakBytes / 2 ** 20),
  };
}

async function measure(dir: string, budgetMb: number, images: number): Promise<Row> {
  const row: Row = { model: dir, budgetMb, images };
  try {
    row.plan = await planFor(dir, budgetMb);
  } catch (e) {
    if (!(e instanceof MemoryBudgetError)) throw e;
    row.error = e.message;
    return row;
  }
  await Deno.remove(join(dir, ".cache"), { recursive: true }).catch(() => undefined);
  const manifest = await readManifest(dir);
  const size = `${manifest.input.height}x${manifest.input.width}`;
  const cmd = new Deno.Command("/usr/bin/time", {
    args: [
      "-v",
      Deno.execPath(),
      "run",
      "-A",
      "src/cli/score.ts",
      "--model",
      dir,
      `noise:uniform:${images}:${size}`,
      "--backend",
      values.backend!,
      "--memory-budget-mb",
      String(budgetMb),
    ],
    stdout: "null",
    stderr: "piped",
  });
  const out = await cmd.output();
  const err = new TextDecoder().decode(out.stderr);
  const num = (re: RegExp) => Number(re.exec(err)?.[1] ?? NaN);
  row.peakRssMb = Math.round(num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(err)?.[1] ?? "";
  row.wallSeconds = wall.split(":").map(Number).reduce((a, v) => a * 60 + v, 0);
  row.cpuSeconds = num(/User time \(seconds\): ([\d.]+)/) +
    num(/System time \(seconds\): ([\d.]+)/);
  row.withinBudget = row.peakRssMb <= budgetMb;
  if (!out.success) row.error = err.split("\n").slice(-6).join("\n");
  return row;
}

const rows: Row[] = [];
for (const dir of values.models!.split(",")) {
  for (const budget of values.budgets!.split(",").map(Number)) {
    const row = await measure(dir, budget, Number(values.images));
    console.log(JSON.stringify(row));
    rows.push(row);
  }
}
const report = { host: await hostInfo([values.backend as "native"]), rows };
const out = values.out ?? `bench/results/memory-${new Date().toISOString().slice(0, 16)}.json`;
await Deno.writeTextFile(out, JSON.stringify(report, null, 2) + "\n");
console.log(`wrote ${out}`);
Deno.exit(0);
