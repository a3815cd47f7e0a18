/**
 * `deno run -A bench/compile_stall.ts [--model models/fmnist-wrn40] [--iterations 4] [--rounds 3]
 * [--out bench/results/compile-stall.json]`
 *
 * How long the engine's thread stalls while a new S&I graph is compiled, with `compileInWorker`
 * on and off: a 5 ms interval runs on that thread during `engine.warmup(settings)` (native
 * backend, empty compile cache in a temp dir), and the longest gap between its ticks is reported
 * for the compile phase (until onnxruntime's session creation starts) and for the session
 * creation itself. Prints a table and writes the rows as JSON with the host. Numbers in
 * docs/performance.md.
 * @module
 */
import { parseCommand } from "../src/cli/args.ts";
import { inputDimsOf } from "../src/models/manifest.ts";
import { SiEngine } from "../src/engine/engine.ts";
import { type ScoreSettings, splitPolicyOf } from "../src/contract/scoring.ts";
import type { Runtime } from "../src/runtime/types.ts";
import { hostInfo } from "./host.ts";

const args = parseCommand(Deno.args, {
  model: { type: "string", default: "models/fmnist-wrn40" },
  iterations: { type: "string", default: "4" },
  rounds: { type: "string", default: "3" },
  out: { type: "string", default: "bench/results/compile-stall.json" },
});
const dir = args.values.model;
const manifest = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
const modelBytes = await Deno.readFile(`${dir}/${manifest.model.file}`);
const [c, h, w] = inputDimsOf(manifest);
const settings: ScoreSettings = {
  method: "si",
  alpha: 0.001,
  iterations: Number(args.values.iterations),
  loss: "ce",
  integrate: "add",
};

/** Longest tick gaps (ms) of this thread during one warmup, before and after session creation. */
async function measure(compileInWorker: boolean) {
  const cacheDir = await Deno.makeTempDir({ prefix: "compile-stall-" });
  try {
    const engine = await SiEngine.create({
      modelBytes,
      backend: "native",
      inputDims: [c, h, w],
      splitPolicy: splitPolicyOf(manifest),
      source: manifest.name,
      cacheDir,
      compileInWorker,
    });
    const runtime = engine.runtime as { -readonly [K in keyof Runtime]: Runtime[K] };
    const create = runtime.createSession;
    let creating = 0;
    runtime.createSession = (model, options) => {
      creating = performance.now();
      return create.call(runtime, model, options);
    };
    const ticks: number[] = [performance.now()];
    const timer = setInterval(() => ticks.push(performance.now()), 5);
    await engine.warmup(settings).finally(() => clearInterval(timer));
    runtime.createSession = create;
    ticks.push(performance.now());
    const gaps = ticks.slice(1).map((t, i) => ({ end: t, ms: t - ticks[i] }));
    const before = gaps.filter((g) => g.end <= creating).map((g) => g.ms);
    const lastTick = Math.max(...ticks.filter((t) => t <= creating));
    return {
      compileStall: Math.max(...before, creating - lastTick),
      compileMs: creating - ticks[0],
      sessionStall: Math.max(...gaps.filter((g) => g.end > creating).map((g) => g.ms)),
      totalMs: ticks.at(-1)! - ticks[0],
    };
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
}

console.log(`${manifest.name}, S&I T=${settings.iterations}, native backend, ${Deno.build.target}`);
console.log(
  "| compile | longest stall while compiling | compile phase | longest stall in session creation | warmup |",
);
console.log("| --- | --- | --- | --- | --- |");
const rows = [];
for (let r = 0; r < Number(args.values.rounds); r++) {
  for (const inWorker of [true, false]) {
    const m = await measure(inWorker);
    rows.push({ round: r + 1, compile: inWorker ? "worker" : "in-thread", ...m });
    const ms = (v: number) => `${v.toFixed(0)} ms`;
    console.log(
      `| ${inWorker ? "worker" : "in-thread"} | ${ms(m.compileStall)} | ${ms(m.compileMs)} | ` +
        `${ms(m.sessionStall)} | ${ms(m.totalMs)} |`,
    );
  }
}
const report = { host: await hostInfo(["native"]), model: dir, settings, rows };
await Deno.writeTextFile(args.values.out!, JSON.stringify(report, null, 2) + "\n");
console.log(`wrote ${args.values.out}`);
Deno.exit(0);
