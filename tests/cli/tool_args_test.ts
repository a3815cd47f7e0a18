import assert from "node:assert/strict";
import { UsageError } from "../../src/cli/args.ts";
import { parseBenchArgs } from "../../bench/main.ts";
import { parseFuzzArgs } from "../../tools/fuzz/main.ts";

Deno.test("parseBenchArgs() reads the bench flags with the CLIs' parser and its errors", () => {
  const quick = parseBenchArgs(["--quick", "--backends", "wasm,native", "--timing", "once"]);
  assert.deepEqual(quick.batches, [1, 8]);
  assert.deepEqual(quick.backends, ["wasm", "native"]);
  assert.equal(quick.plan.maxRuns, 1, "--timing once: one timed run");
  assert.deepEqual(parseBenchArgs(["--batches", "2,4"]).batches, [2, 4]);
  assert.deepEqual(parseBenchArgs([]).batches, [1, 8, 32]);
  assert.throws(() => parseBenchArgs(["--batches", "0"]), UsageError);
  assert.throws(() => parseBenchArgs(["--backends", "cuda"]), /--backends: expected one of/);
  assert.throws(() => parseBenchArgs(["--timing", "slow"]), /--timing: expected one of/);
  assert.throws(() => parseBenchArgs(["--bogus"]), UsageError);
});

Deno.test("parseFuzzArgs() reads the fuzz flags with the CLIs' parser and its errors", () => {
  const a = parseFuzzArgs(["--seconds", "5", "--seed", "0", "--rss-mb", "200", "--workers", "2"]);
  assert.equal(a.seconds, 5);
  assert.equal(a.seed, 0);
  assert.equal(a.rssMb, 200);
  assert.equal(a.maxPixels, 2 ** 22);
  assert.equal(a.workers, 2);
  assert.throws(() => parseFuzzArgs(["--seconds", "x"]), /--seconds: expected a number ≥ 0/);
  assert.throws(() => parseFuzzArgs(["--seed", "-1"]), UsageError);
  assert.throws(() => parseFuzzArgs(["--speed", "1"]), UsageError);
});
