/**
 * `deno task bench --startup [--models a,b] [--warm-runs 3] [--out file]`: the start-up benchmark.
 *
 * Per model, what a user pays for `deno task score --method si_a` on ONE image: the time from
 * spawning the process to its first score line on stdout, and the process's peak RSS
 * (`/usr/bin/time`), with a cold disk cache (an empty `.cache/`: folding, probe, compile,
 * onnxruntime's optimisation) and a warm one (everything read back), plus, side by side, the
 * forward time at batch 1 (engine: `energy` graph; PyTorch: tools/export/torch_forward.py, which
 * also gives PyTorch's process start → first forward) and, for generated models, the
 * `--preset imagenet` import. Each run records the 1-minute load average before it: on a shared
 * machine, wall times above the core count are inflated by contention, CPU seconds much less.
 *
 * The model directory is copied (its model file hard-linked) into a temporary folder, so the
 * cold runs never touch the real cache. Native backend, si_a.
 * @module
 */
import { join } from "node:path";
import { hostInfo, loadAverage } from "./host.ts";
import { readModel } from "../src/onnx/proto.ts";

/** Benchmark models: model directory, and the exported .onnx + PyTorch arch where generated. */
const STARTUP_MODELS: Record<string, { dir: string; onnx?: string; torch?: string }> = {
  "fmnist-wrn40": { dir: "models/fmnist-wrn40" },
  "bit-tiny-fmnist": { dir: "models/bit-tiny-fmnist" },
  resnet50: {
    dir: "bench/models/gen/resnet50",
    onnx: "bench/models/gen/resnet50.onnx",
    torch: "resnet50",
  },
  mobilenet_v2: {
    dir: "bench/models/gen/mobilenet_v2",
    onnx: "bench/models/gen/mobilenet_v2.onnx",
    torch: "mobilenet_v2",
  },
  bit_r101: {
    dir: "bench/models/gen/bit_r101",
    onnx: "bench/models/gen/bit_r101.onnx",
    torch: "bit_r101",
  },
};

/** One process run: wall time to its first stdout line and to its exit, CPU and peak RSS. */
export interface ProcessRun {
  readonly firstLineS: number;
  readonly exitS: number;
  readonly cpuS: number;
  readonly peakRssMB: number;
  readonly loadAverage: number;
}

/** Runs a command under /usr/bin/time; fails with its stderr when it exits non-zero. */
async function timed(args: string[]): Promise<ProcessRun & { stdout: string }> {
  const loadAvg = loadAverage();
  const start = performance.now();
  const child = new Deno.Command("/usr/bin/time", {
    args: ["-f", "TIME %M %U %S", ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let firstLine = NaN, stdout = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    stdout += decoder.decode(chunk, { stream: true });
    if (Number.isNaN(firstLine) && stdout.includes("\n")) firstLine = performance.now() - start;
  }
  const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
  const status = await child.status;
  const exit = performance.now() - start;
  const m = /TIME (\d+) ([\d.]+) ([\d.]+)/.exec(stderr);
  if (!status.success || !m) throw new Error(`${args.join(" ")} failed:\n${stderr.slice(-2000)}`);
  return {
    stdout,
    firstLineS: round(firstLine / 1000),
    exitS: round(exit / 1000),
    cpuS: round(Number(m[2]) + Number(m[3])),
    peakRssMB: Math.round(Number(m[1]) / 1024),
    loadAverage: loadAvg,
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
const deno = (...args: string[]) => [Deno.execPath(), "run", "--allow-all", ...args];

/** Weight bytes of a model: its initializers' data. */
async function weightBytes(path: string): Promise<number> {
  const graph = readModel(await Deno.readFile(path), path).graph!;
  let total = 0;
  for (const t of graph.initializer ?? []) {
    const n = (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1);
    total += t.rawData?.length ? t.rawData.length : 4 * n;
  }
  return total;
}

/** A copy of a model directory (the model file hard-linked, else copied) with no cache. */
async function copyModelDir(dir: string, into: string): Promise<string> {
  await Deno.mkdir(into, { recursive: true });
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile) continue;
    const from = join(dir, e.name), to = join(into, e.name);
    await Deno.link(from, to).catch(() => Deno.copyFile(from, to));
  }
  return into;
}

/** Start-up of one model: cold, then `warmRuns` warm, plus forward times and the import. */
async function benchModel(name: string, warmRuns: number) {
  const spec = STARTUP_MODELS[name];
  const manifest = JSON.parse(await Deno.readTextFile(join(spec.dir, "manifest.json")));
  const { height, width } = manifest.input;
  const tmp = await Deno.makeTempDir({ prefix: `startup-${name}-` });
  try {
    const dir = await copyModelDir(spec.dir, join(tmp, name));
    const score = () =>
      timed(
        deno(
          "src/cli/score.ts",
          "--model",
          dir,
          "--method",
          "si_a",
          "--backend",
          "native",
          `noise:uniform:1:${height}x${width}`,
        ),
      );
    const cold = await score();
    const warm = [];
    for (let i = 0; i < warmRuns; i++) warm.push(await score());
    return {
      name,
      weightMB: round((await weightBytes(join(spec.dir, manifest.model.file))) / 2 ** 20),
      cold: strip(cold),
      warm: warm.map(strip),
      ...(await sideBySide(spec, dir, tmp, name)),
    };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

const strip = ({ stdout: _, ...run }: ProcessRun & { stdout: string }) => run;

/** The engine's and PyTorch's forward at batch 1, and the import of a generated model. */
async function sideBySide(
  spec: typeof STARTUP_MODELS[string],
  dir: string,
  tmp: string,
  name: string,
) {
  const forward = JSON.parse((await timed(deno("bench/startup_forward.ts", dir))).stdout);
  const torch = spec.torch
    ? JSON.parse(
      (await timed(["/usr/bin/python3", "tools/export/torch_forward.py", spec.torch])).stdout,
    )
    : undefined;
  const imported = spec.onnx && await exists(spec.onnx)
    ? await timed(
      deno(
        "src/cli/import.ts",
        spec.onnx,
        "--name",
        name,
        "--models-dir",
        join(tmp, "imported"),
        "--force",
        "--preset",
        "imagenet",
      ),
    )
    : undefined;
  return {
    forwardMs: forward.forwardMs,
    ...(torch ? { torch } : {}),
    ...(imported
      ? {
        importS: imported.exitS,
        importCpuS: imported.cpuS,
        importPeakRssMB: imported.peakRssMB,
      }
      : {}),
  };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** The targets of issue 22 for one model's results (warm: the median run). */
function verdict(r: Awaited<ReturnType<typeof benchModel>>) {
  const warm = [...r.warm].sort((a, b) => a.firstLineS - b.firstLineS)[r.warm.length >> 1];
  const rssTarget = Math.round(3 * r.weightMB + 150);
  return {
    warmFirstScoreS: warm.firstLineS,
    warmCpuS: warm.cpuS,
    peakRssMB: Math.max(...r.warm.map((w) => w.peakRssMB)),
    rssTargetMB: rssTarget,
  };
}

/** Runs the start-up benchmark and writes its JSON. */
export async function runStartup(opts: { models?: string[]; warmRuns: number; out?: string }) {
  const host = await hostInfo(["native"]);
  const names = opts.models ?? Object.keys(STARTUP_MODELS);
  const results = [];
  for (const name of names) {
    if (!STARTUP_MODELS[name]) {
      throw new Error(`Unknown model "${name}": ${Object.keys(STARTUP_MODELS)}`);
    }
    if (!(await exists(join(STARTUP_MODELS[name].dir, "manifest.json")))) {
      console.log(
        `  skipped ${name}: ${STARTUP_MODELS[name].dir} missing (deno task bench:models)`,
      );
      continue;
    }
    console.log(`start-up: ${name} …`);
    const r = await benchModel(name, opts.warmRuns);
    results.push({ ...r, summary: verdict(r) });
    console.log(`  ${JSON.stringify(results.at(-1)!.summary)}`);
  }
  const report = { kind: "startup", host, results, loadAverageEnd: loadAverage() };
  const stamp = host.date.replace(/[-:]/g, "").slice(0, 13);
  const out = opts.out ?? `bench/results/startup-${stamp}.json`;
  await Deno.writeTextFile(out, JSON.stringify(report, null, 2) + "\n");
  console.log(toMarkdown(results));
  console.log(`Wrote ${out}`);
}

function toMarkdown(
  results: {
    name: string;
    weightMB: number;
    cold: ProcessRun;
    forwardMs: number;
    torch?: { firstForwardS: number; forwardMs: number };
    importS?: number;
    summary: ReturnType<typeof verdict>;
  }[],
): string {
  const rows = results.map((r) =>
    `| ${r.name} | ${
      r.weightMB.toFixed(1)
    } | ${r.cold.firstLineS} (${r.cold.loadAverage}) | ${r.summary.warmFirstScoreS} (${r.summary.warmCpuS} CPU) | ${
      r.torch?.firstForwardS ?? "–"
    } | ${r.summary.peakRssMB} / ${r.summary.rssTargetMB} | ${r.forwardMs} / ${
      r.torch?.forwardMs ?? "–"
    } | ${r.importS ?? "–"} |`
  );
  return [
    "| model | weights MB | cold first score s (load) | warm first score s | PyTorch first forward s | warm peak RSS MB / target | forward ms ours / PyTorch | import s |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
