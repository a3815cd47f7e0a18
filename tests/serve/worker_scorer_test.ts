import assert from "node:assert/strict";
import { createWorkerScorer } from "../../src/serve/worker_scorer.ts";
import type { ScorerFactory } from "../../src/contract/scoring.ts";
import { DEFAULT_SETTINGS } from "../../src/contract/scoring.ts";

const factoryUrl = new URL("./fake_factory.ts", import.meta.url).href;

function args(name: string): Parameters<ScorerFactory>[0] {
  return {
    modelBytes: new Uint8Array([1, 2, 3]),
    manifest: { name, defaults: DEFAULT_SETTINGS } as unknown as Parameters<
      ScorerFactory
    >[0]["manifest"],
    backend: "wasm",
    inputDims: [1, 2, 2],
  };
}

Deno.test("createWorkerScorer() scores batches in a worker with the factory's results", async () => {
  const scorer = await createWorkerScorer(factoryUrl, args("plain"));
  try {
    const data = new Float32Array([0.2, 0.2, 0.2, 0.2, 1, 1, 1, 1]);
    const out = await scorer.score({ data, dims: [2, 1, 2, 2] }, DEFAULT_SETTINGS);
    assert.equal(out.length, 2);
    assert.ok(Math.abs(out[0].score - 0.2) < 1e-6);
    assert.equal(out[1].score, 1);
    assert.equal(out[1].class, 1);
    assert.deepEqual(out[1].layers, [1, 1]);
    assert.equal(data[0], Math.fround(0.2), "the caller's data is not detached");
    assert.deepEqual(scorer.splits(DEFAULT_SETTINGS), ["split.a", "split.b"]);
  } finally {
    scorer.terminate();
  }
});

Deno.test("createWorkerScorer() rejects when the factory cannot build the scorer", async () => {
  await assert.rejects(createWorkerScorer(factoryUrl, args("broken")), /cannot build broken model/);
});

Deno.test("createWorkerScorer() keeps the calling thread responsive while a batch blocks", async () => {
  const scorer = await createWorkerScorer(factoryUrl, args("blocking-400"));
  try {
    let ticks = 0;
    const iv = setInterval(() => ticks++, 20);
    await scorer.score({ data: new Float32Array(4), dims: [1, 1, 2, 2] }, DEFAULT_SETTINGS);
    clearInterval(iv);
    // Scored on this thread, a 400 ms busy-wait would allow no ticks at all.
    assert.ok(ticks >= 5, `only ${ticks} timer ticks during a 400 ms batch`);
  } finally {
    scorer.terminate();
  }
});

Deno.test("createWorkerScorer() forwards an abort to the worker's scorer", async () => {
  const scorer = await createWorkerScorer(factoryUrl, args("sleeping-5000"));
  try {
    const abort = new AbortController();
    const data = new Float32Array([0.2, 0.2, 0.2, 0.2]);
    const started = performance.now();
    const scoring = scorer.score({ data, dims: [1, 1, 2, 2] }, DEFAULT_SETTINGS, {
      signal: abort.signal,
    });
    setTimeout(() => abort.abort(new DOMException("client left", "AbortError")), 100);
    await assert.rejects(scoring, { name: "AbortError" });
    // Without the forwarded abort the worker would sleep the whole 5 s before answering.
    assert.ok(performance.now() - started < 4000, "the worker stopped early");
  } finally {
    scorer.terminate();
  }
});
