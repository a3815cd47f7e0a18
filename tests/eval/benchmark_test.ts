import assert from "node:assert/strict";
import { parseEvalArgs } from "../../src/cli/eval_args.ts";
import { UsageError } from "../../src/cli/args.ts";
import { runBenchmark, runSettings } from "../../src/eval/benchmark.ts";
import { formatDuration, ProgressBar, progressLine } from "../../src/eval/progress.ts";
import { DEFAULT_SETTINGS } from "../../src/contract/scoring.ts";
import { createFakeModel } from "../helpers/fake_model.ts";

const FIXTURE = new URL("../fixtures/wrn40-fmnist/", import.meta.url).pathname;

Deno.test("parseEvalArgs() reads repeated --ood sets, lists and defaults", () => {
  const a = parseEvalArgs([
    "--model=models/m",
    "--id=fmnist:test[0:5]",
    "--ood=mnist=mnist[0:5]",
    "--ood=noise=noise:uniform:5:28x28",
    "--ood=mnist=u8:x.u8:28x28",
    "--alpha=0.0005,0.001",
    "--iterations=1,2",
    "--methods=si,msp",
  ])!;
  assert.deepEqual(a.ood, [
    { name: "mnist", specs: ["mnist[0:5]", "u8:x.u8:28x28"] },
    { name: "noise", specs: ["noise:uniform:5:28x28"] },
  ]);
  assert.deepEqual(a.alphas, [0.0005, 0.001]);
  assert.deepEqual(a.iterations, [1, 2]);
  assert.equal(a.backend, "wasm");
  assert.equal(a.batch, 32);
  assert.equal(a.cache, ".cache/eval");
  assert.equal(parseEvalArgs(["--help"]), undefined);
});

Deno.test("parseEvalArgs() rejects bad arguments with a clear message", () => {
  const base = ["--model", "m", "--id", "x"];
  assert.throws(() => parseEvalArgs(base), /at least one --ood/);
  assert.throws(() => parseEvalArgs([...base, "--ood", "=x"]), /--ood expects <name>=<inputs>/);
  assert.throws(
    () => parseEvalArgs([...base, "--ood", "a=x", "--methods", "odin"]),
    /--methods: expected one of/,
  );
  assert.throws(() => parseEvalArgs([...base, "--ood", "a=x", "--iterations", "1.5"]), UsageError);
  assert.throws(() => parseEvalArgs([...base, "--ood", "a=x", "--bogus"]), UsageError);
});

Deno.test("runSettings() expands the α × T grid for si only", () => {
  const a = parseEvalArgs([
    "--model=m",
    "--id=x",
    "--ood=a=y",
    "--methods=si,energy",
    "--alpha=0.01,0.1",
    "--iterations=1,3",
  ])!;
  const s = runSettings(a, DEFAULT_SETTINGS);
  assert.deepEqual(s.map((x) => [x.method, x.alpha, x.iterations]), [
    ["si", 0.01, 1],
    ["si", 0.01, 3],
    ["si", 0.1, 1],
    ["si", 0.1, 3],
    ["energy", 0.001, 2],
  ]);
});

Deno.test("progressLine() shows the share done and the ETA", () => {
  assert.equal(formatDuration(75), "1:15");
  assert.equal(formatDuration(3725), "1:02:05");
  assert.equal(
    progressLine(30, 120, 30, "si: ID"),
    `[${"#".repeat(6)}${"-".repeat(18)}] 30/120 25%  ETA 0:30  si: ID`,
  );
});

Deno.test("runBenchmark() scores every set per run, prints tables and writes the report", async () => {
  const out = await Deno.makeTempDir();
  const model = createFakeModel({ inputDims: [1, 4, 4] });
  const args = parseEvalArgs([
    "--model=fake",
    `--id=u8:${FIXTURE}id-fmnist.u8:28x28`,
    `--ood=mnist=u8:${FIXTURE}ood-mnist.u8:28x28`,
    "--ood=noise=noise:uniform:10:28x28",
    "--methods=si,msp",
    "--alpha=0.001,0.01",
    "--limit=20",
    "--batch=8",
    "--no-cache",
    `--out=${out}`,
  ])!;
  const printed: string[] = [];
  const lines: string[] = [];
  const results = await runBenchmark(model, args, {
    print: (t) => printed.push(t),
    progress: (total) => new ProgressBar(total, { write: (s) => lines.push(s), tty: false }),
  });
  assert.deepEqual(results.map((r) => r.label), ["si (α=0.001, T=2)", "si (α=0.01, T=2)", "msp"]);
  // 3 runs × (20 ID + 20 MNIST + 10 noise) images, in batches of at most 8.
  assert.equal(model.batches.reduce((a, b) => a + b.size, 0), 150);
  assert.ok(model.batches.every((b) => b.size <= 8));
  assert.deepEqual(
    model.batches.map((b) => b.settings.alpha).filter((a, i, all) => all.indexOf(a) === i),
    [0.001, 0.01],
  );
  assert.deepEqual(results[0].rows.map((r) => [r.ood, r.nId, r.nOod]), [["mnist", 20, 20], [
    "noise",
    20,
    10,
  ]]);
  // The fake scores mean brightness: uniform noise (mean ≈ 0.50) is brighter than all but one of
  // these 20 clothing images (their means are 0.11 … 0.48 and one 0.55), so AUROC is about 1/20.
  const noiseAuroc = results[2].rows[1].metrics.auroc;
  assert.ok(noiseAuroc >= 0.04 && noiseAuroc <= 0.1, `AUROC ${noiseAuroc}`);
  assert.ok(lines.at(-1)!.startsWith(`[${"#".repeat(24)}] 150/150 100%`));
  const text = printed.join("\n");
  assert.match(text, /si \(α=0\.01, T=2\) \(n_ID = 20\)/);
  assert.match(text, /\nAverage /);
  const csv = (await Deno.readTextFile(`${out}/results.csv`)).trim().split("\n");
  assert.equal(csv.length, 1 + 3 * 3);
  const scores = (await Deno.readTextFile(`${out}/scores.csv`)).trim().split("\n");
  assert.equal(scores.length, 1 + 150);
  await Deno.stat(`${out}/roc-msp.svg`);
  await Deno.remove(out, { recursive: true });
});

Deno.test("ProgressBar redraws on a terminal and prints each new tenth otherwise", () => {
  const tty: string[] = [];
  const bar = new ProgressBar(10, { write: (s) => tty.push(s), tty: true });
  bar.label("msp: ID");
  bar.advance(5, true); // cache hits only: no speed known yet
  bar.advance(1);
  bar.finish();
  assert.ok(tty[0].startsWith("\r[") && tty[0].includes("5/10 50%  ETA ?  msp: ID"));
  assert.ok(tty[1].includes("6/10 60%  ETA "));
  assert.equal(tty.at(-1), "\n");
  const log: string[] = [];
  const plain = new ProgressBar(100, { write: (s) => log.push(s), tty: false });
  for (let i = 0; i < 100; i++) plain.advance(1);
  assert.equal(log.length, 11); // 1 %, then 10 %, 20 %, …, 100 %
  assert.ok(log.every((l) => l.endsWith("\n") && !l.includes("\r")));
});
