/**
 * `deno task bench [--quick] [--backends wasm,native,webgpu] [--batches 1,8,32] [--models …]
 * [--only forward,…] [--no-micro] [--load] [--out file]`
 *
 * Measures every workload in {@link MODEL_WORKLOADS} per model × available backend × batch,
 * the ConvTranspose-vs-Conv microbenchmark, and optionally the HTTP load test; writes JSON under
 * bench/results/ and prints markdown tables.
 * @module
 */
import { dirname } from "node:path";
import { availableBackends, getRuntime } from "../src/runtime/runtime.ts";
import { type BackendName, BACKENDS } from "../src/contract/backends.ts";
import { numberList, oneOf, parseCommand, UsageError } from "../src/cli/args.ts";
import { hostInfo, loadAverage } from "./host.ts";
import { type BenchReport, toMarkdown } from "./report.ts";
import type { LoadBenchResult } from "./load.ts";
import { PLANS } from "./stats.ts";
import { DEFAULT_MODELS, loadModel } from "./models.ts";
import { runMicro, runModelWorkloads, webgpuPlacements } from "./runner.ts";
import { MODEL_WORKLOADS } from "./workloads.ts";

const HELP = `deno task bench [options]
  --quick              smoke run (< 1 min): batches 1,8, short timing, one microbenchmark layer
  --backends LIST      comma-separated subset of ${BACKENDS.join(",")} (default: all that load)
  --batches LIST       batch sizes (default 1,8,32; quick 1,8)
  --models LIST        of ${DEFAULT_MODELS.join(",")} or zoo/<arch> (tools/zoo/archs.ts)
                       (default: those of the first list whose file exists)
  --only LIST          workload names (default: all of ${
  MODEL_WORKLOADS.map((w) => w.name).join(",")
})
  --timing PLAN        full, quick or once (one warm-up, one timed run): the timing plan alone
                       (default: quick with --quick, else full), e.g. every workload of the slow
                       224-pixel models with few runs: --timing quick
  --no-micro           skip the ConvTranspose-vs-Conv microbenchmark
  --isolate            one child process per model and backend: clean peak memory
                       (default for full runs; --no-isolate turns it off)
  --load               also run the HTTP load benchmark (bench/load.ts)
  --startup            the start-up benchmark instead (bench/startup.ts): process start → first
                       score line, cold and warm cache, peak RSS, PyTorch side by side
                       (--models of fmnist-wrn40,bit-tiny-fmnist,resnet50,mobilenet_v2,bit_r101;
                       --warm-runs N, default 3)
  --out FILE           result JSON (default bench/results/<quick|full>-<timestamp>.json)`;

const list = (s: string | undefined) => s?.split(",").map((x) => x.trim()).filter(Boolean);

/** The benchmark's flags, read with the CLIs' parser (src/cli/args.ts); throws a UsageError. */
export function parseBenchArgs(argv: readonly string[]) {
  const text = { type: "string" } as const, flag = { type: "boolean" } as const;
  const { values } = parseCommand(argv, {
    quick: flag,
    backends: text,
    batches: text,
    models: text,
    only: text,
    timing: text,
    "no-micro": flag,
    isolate: flag,
    "no-isolate": flag,
    load: flag,
    out: text,
    startup: flag,
    "warm-runs": text,
    help: flag,
  });
  const quick = values.quick ?? false;
  const timing = oneOf("timing", values.timing ?? (quick ? "quick" : "full"), Object.keys(PLANS))!;
  const batches = numberList("batches", values.batches, {
    what: "positive integers",
    ok: (b) => Number.isInteger(b) && b >= 1,
  }) ?? (quick ? [1, 8] : [1, 8, 32]);
  const backends = list(values.backends)?.map((b) => oneOf("backends", b, BACKENDS)!) ?? BACKENDS;
  return { values, quick, plan: PLANS[timing], batches, backends };
}

async function main() {
  const { values, quick, plan, batches, backends: requested } = parseBenchArgs(Deno.args);
  if (values.help) return console.log(HELP);
  if (values.startup) {
    const { runStartup } = await import("./startup.ts");
    const warmRuns = numberList("warm-runs", values["warm-runs"], {
      what: "a positive integer",
      ok: (n) => Number.isInteger(n) && n >= 1,
    })?.[0] ?? 3;
    return await runStartup({ models: list(values.models), warmRuns, out: values.out });
  }
  const started = performance.now();
  const status = await availableBackends(requested);
  const backends = requested.filter((b) => status[b] === true);
  const unavailable = Object.fromEntries(
    requested.filter((b) => status[b] !== true).map((b) => [b, String(status[b])]),
  );
  const defaultModels = quick ? ["wrn40-2", "resnet18-w16"] : DEFAULT_MODELS;
  const models = [];
  for (const name of list(values.models) ?? defaultModels) {
    const m = await loadModel(name, !values.models);
    if (m) models.push(m);
  }
  const only = list(values.only);
  const factories = MODEL_WORKLOADS.filter((f) => !only || only.includes(f.name));

  const host = await hostInfo(backends);
  console.log(`${host.cpu}, ${host.cores} cores; backends: ${backends.join(", ") || "none"}`);
  for (const [b, why] of Object.entries(unavailable)) console.log(`  skipped ${b}: ${why}`);

  const isolate = values.isolate ??
    (!quick && !values["no-isolate"] && backends.length * models.length > 1);
  const failures: Record<string, string> = {};
  const modelNames = models.map((m) => m.name);
  const children = isolate ? await runIsolated(backends, modelNames, values, failures) : [];
  const results = isolate
    ? children.flatMap((c) => c.results)
    : await runModelWorkloads({ models, backends, batches, factories, plan, quick });
  const microBackends = backends.filter((b) => b !== "webgpu");
  const micro = values["no-micro"] ? [] : await runMicro({
    runtimes: await Promise.all(microBackends.map((b) => getRuntime(b))),
    quick,
    plan,
  });
  const placements = isolate
    ? children.flatMap((c) => c.webgpuPlacements)
    : backends.includes("webgpu")
    ? await webgpuPlacements(models)
    : [];
  const load = values.load ? await runLoad(quick) : undefined;

  const report: BenchReport = {
    host,
    options: { quick, isolate, backends, batches, models: models.map((m) => m.name), plan },
    unavailable: { ...unavailable, ...failures },
    results,
    micro,
    webgpuPlacements: placements,
    ...(load !== undefined ? { load } : {}),
    wallSeconds: Math.round((performance.now() - started) / 100) / 10,
    loadAverageEnd: loadAverage(),
  };
  const stamp = host.date.replace(/[-:]/g, "").slice(0, 13);
  const out = values.out ?? `bench/results/${quick ? "quick" : "full"}-${stamp}.json`;
  await Deno.mkdir(dirname(out), { recursive: true });
  await Deno.writeTextFile(out, JSON.stringify(report, null, 2) + "\n");
  console.log(`\n${toMarkdown(report)}\n\nWrote ${out} in ${report.wallSeconds} s`);
}

/**
 * Runs the model workloads of each (model, backend) pair in its own `deno run`, so that peak
 * memory belongs to that pair alone (onnxruntime's arenas and wasm memory never shrink). A
 * failed child is recorded in `failures` and the others still run.
 */
async function runIsolated(
  backends: readonly BackendName[],
  models: readonly string[],
  values: { batches?: string; only?: string; timing?: string; quick?: boolean },
  failures: Record<string, string>,
): Promise<BenchReport[]> {
  const reports: BenchReport[] = [];
  const config = new URL("../deno.json", import.meta.url).pathname;
  const main = new URL(import.meta.url).pathname;
  for (const m of models) {
    for (const b of backends) {
      const out = await Deno.makeTempFile({ prefix: `bench-${b}-`, suffix: ".json" });
      const args = ["--backends", b, "--models", m, "--no-micro", "--no-isolate", "--out", out];
      if (values.quick) args.push("--quick");
      for (const k of ["batches", "only", "timing"] as const) {
        if (values[k]) args.push(`--${k}`, values[k]!);
      }
      console.log(`-- ${m} on ${b} (child process)`);
      const { code } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", "--config", config, main, ...args],
        stdout: "inherit",
        stderr: "inherit",
      }).output();
      if (code === 0) reports.push(JSON.parse(await Deno.readTextFile(out)));
      else failures[`${m} on ${b}`] = `the benchmark process failed (exit ${code})`;
      await Deno.remove(out);
    }
  }
  return reports;
}

/** Runs the HTTP service load test from bench/load.ts; its result is embedded in our JSON. */
async function runLoad(quick: boolean): Promise<LoadBenchResult> {
  const { runLoadBench } = await import("./load.ts"); // loaded only when asked for
  return await runLoadBench({ quick, out: null });
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n\n${HELP}`);
    Deno.exit(2);
  }
  // onnxruntime-web keeps worker threads alive; the results are written, so leave now.
  Deno.exit(0);
}
