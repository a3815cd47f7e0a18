/** The benchmark harness's statistics and its Conv/ConvTranspose equivalence. */
import assert from "node:assert/strict";
import { quantile, summarize, timeInterleaved, timeRuns } from "../../bench/stats.ts";
import { convPair, flipKernel } from "../../bench/convt.ts";
import { getRuntime } from "../../src/runtime/runtime.ts";

Deno.test("quantile() interpolates between sorted values", () => {
  assert.equal(quantile([3, 1, 2, 4], 0.5), 2.5);
  assert.equal(quantile([5], 0.95), 5);
  assert.ok(Math.abs(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0.95) - 10.5) < 1e-12);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

Deno.test("summarize() turns batch run times into per-image latency and throughput", () => {
  const s = summarize([100, 100, 200, 100], 8);
  assert.equal(s.runs, 4);
  assert.equal(s.batchMsP50, 100);
  assert.equal(s.msPerImageP50, 12.5);
  assert.equal(s.imagesPerSec, 64); // 32 images in 0.5 s
});

Deno.test("timeInterleaved() alternates the operations and respects the run limits", async () => {
  const order: string[] = [];
  const op = (name: string) => () => {
    order.push(name);
    return Promise.resolve();
  };
  const plan = { warmup: 1, minRuns: 3, minMs: 0, maxRuns: 3, maxMs: 10_000 };
  const [a, b] = await timeInterleaved([op("a"), op("b")], plan);
  assert.equal(a.length, 3);
  assert.equal(b.length, 3);
  assert.deepEqual(order, ["a", "b", "a", "b", "a", "b", "a", "b"]);
});

Deno.test("flipKernel() turns a 3×3 stride-1 ConvTranspose into an equal Conv", async () => {
  // Each output channel's kernel is the transposed one rotated by 180°.
  const w = Float32Array.from({ length: 2 * 2 * 9 }, (_, i) => i);
  const f = flipKernel(w, 2);
  assert.deepEqual(Array.from(f.subarray(9, 18)), [26, 25, 24, 23, 22, 21, 20, 19, 18]);
  const pair = await convPair(await getRuntime("native"), { channels: 4, size: 5 }, 2);
  try {
    assert.ok(pair.maxAbsDiff < 1e-5, `outputs differ by ${pair.maxAbsDiff}`);
  } finally {
    await pair.release();
  }
});

Deno.test("timeRuns() warms up once when a single run is already long", async () => {
  let calls = 0;
  const slow = async () => {
    calls++;
    await new Promise((r) => setTimeout(r, 5));
  };
  const plan = { warmup: 3, minRuns: 2, minMs: 1, maxRuns: 2, maxMs: 10_000 };
  const times = await timeRuns(slow, plan);
  assert.equal(times.length, 2);
  assert.equal(calls, 3, "one warm-up run plus two timed runs");
});
