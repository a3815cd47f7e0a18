import assert from "node:assert/strict";
import { ApiError } from "../../src/errors.ts";
import { Batcher } from "../../src/serve/batcher.ts";
import { DEFAULT_SETTINGS } from "../../src/contract/scoring.ts";
import { createFakeModel } from "../helpers/fake_model.ts";

const input = (v: number) => new Float32Array(4).fill(v);

Deno.test("Batcher groups images from concurrent requests into one batch up to batchMax", async () => {
  const model = createFakeModel();
  const b = new Batcher({ batchMax: 4, batchWaitMs: 20, queueMaxImages: 100 });
  const r1 = b.admit(model, DEFAULT_SETTINGS, 3);
  const r2 = b.admit(model, DEFAULT_SETTINGS, 3);
  const all = [
    r1.submit(input(0.1)),
    r2.submit(input(0.2)),
    r1.submit(input(0.3)),
    r2.submit(input(0.4)),
    r1.submit(input(0.5)),
    r2.submit(input(0.6)),
  ];
  const scores = (await Promise.all(all)).map((s) => s.score);
  r1.release();
  r2.release();
  assert.deepEqual(model.batches.map((x) => x.size), [4, 2]);
  // Each promise gets its own image's result, whatever batch it rode in.
  scores.forEach((s, i) => assert.ok(Math.abs(s - (i + 1) / 10) < 1e-6, `${i}: ${s}`));
  assert.equal(b.depth, 0);
});

Deno.test("Batcher waits batchWaitMs for a partial batch, then scores it", async () => {
  const model = createFakeModel();
  const b = new Batcher({ batchMax: 8, batchWaitMs: 40, queueMaxImages: 100 });
  const a = b.admit(model, DEFAULT_SETTINGS, 1);
  const t0 = performance.now();
  await a.submit(input(1));
  const waited = performance.now() - t0;
  assert.ok(waited >= 35, `scored after ${waited} ms`);
  assert.deepEqual(model.batches.map((x) => x.size), [1]);
});

Deno.test("Batcher never mixes settings or models in one batch", async () => {
  const m1 = createFakeModel({ id: "one" });
  const m2 = createFakeModel({ id: "two" });
  const b = new Batcher({ batchMax: 8, batchWaitMs: 10, queueMaxImages: 100 });
  const msp = { ...DEFAULT_SETTINGS, method: "msp" as const };
  const jobs = [
    b.admit(m1, DEFAULT_SETTINGS, 2),
    b.admit(m1, msp, 2),
    b.admit(m2, DEFAULT_SETTINGS, 2),
  ].flatMap((a) => [a.submit(input(1)), a.submit(input(1))]);
  await Promise.all(jobs);
  assert.deepEqual(m1.batches.map((x) => [x.size, x.settings.method]).sort(), [[2, "msp"], [
    2,
    "si",
  ]]);
  assert.deepEqual(m2.batches.map((x) => x.size), [2]);
});

Deno.test("Batcher puts MSP requests that differ only in α (which MSP ignores) in one batch", async () => {
  const model = createFakeModel();
  const b = new Batcher({ batchMax: 8, batchWaitMs: 10, queueMaxImages: 100 });
  const msp = { ...DEFAULT_SETTINGS, method: "msp" as const };
  const jobs = [b.admit(model, msp, 2), b.admit(model, { ...msp, alpha: 0.5 }, 2)]
    .flatMap((a) => [a.submit(input(1)), a.submit(input(1))]);
  await Promise.all(jobs);
  assert.deepEqual(model.batches.map((x) => x.size), [4]);
});

Deno.test("Batcher.admit() rejects with 503 and Retry-After when the queue would overflow", () => {
  const model = createFakeModel();
  const b = new Batcher({ batchMax: 4, batchWaitMs: 0, queueMaxImages: 3, retryAfterSeconds: 2 });
  b.admit(model, DEFAULT_SETTINGS, 2);
  assert.throws(() => b.admit(model, DEFAULT_SETTINGS, 2), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 503);
    assert.equal(e.code, "overloaded");
    assert.equal(e.headers["retry-after"], "2");
    return true;
  });
  const last = b.admit(model, DEFAULT_SETTINGS, 1);
  assert.equal(b.depth, 3);
  last.release();
  assert.equal(b.depth, 2);
});

Deno.test("Batcher drops a request's queued images when its signal aborts", async () => {
  const model = createFakeModel();
  const release = model.hold();
  const b = new Batcher({ batchMax: 1, batchWaitMs: 0, queueMaxImages: 10 });
  const ac = new AbortController();
  const gone = b.admit(model, DEFAULT_SETTINGS, 3, ac.signal);
  const stays = b.admit(model, DEFAULT_SETTINGS, 1);
  const p = [gone.submit(input(0.1)), gone.submit(input(0.2)), gone.submit(input(0.3))];
  const kept = stays.submit(input(0.9));
  await model.started(1); // the first image of `gone` is being scored
  ac.abort();
  for (const r of await Promise.allSettled(p.slice(1))) {
    assert.equal(r.status, "rejected");
    assert.equal((r as PromiseRejectedResult).reason.name, "AbortError");
  }
  assert.equal(b.depth, 2, "the image being scored and the other request's image remain");
  release();
  assert.ok(Math.abs((await p[0]).score - 0.1) < 1e-6);
  assert.ok(Math.abs((await kept).score - 0.9) < 1e-6);
  assert.deepEqual(model.batches.map((x) => x.size), [1, 1]);
  await b.drain();
  assert.equal(b.depth, 0);
});

Deno.test("Batcher rejects every image of a batch whose scorer throws, and frees their slots", async () => {
  const model = createFakeModel();
  model.failWith = new Error("boom");
  const b = new Batcher({ batchMax: 4, batchWaitMs: 0, queueMaxImages: 10 });
  const a = b.admit(model, DEFAULT_SETTINGS, 2);
  const r = await Promise.allSettled([a.submit(input(1)), a.submit(input(1))]);
  assert.deepEqual(r.map((x) => x.status), ["rejected", "rejected"]);
  assert.equal(b.depth, 0);
});

Deno.test("Batcher.drain() resolves when every admitted image has finished", async () => {
  const model = createFakeModel({ delayMs: 20 });
  const b = new Batcher({ batchMax: 2, batchWaitMs: 0, queueMaxImages: 10 });
  const a = b.admit(model, DEFAULT_SETTINGS, 2);
  let scored = 0;
  a.submit(input(1)).then(() => scored++);
  a.submit(input(1)).then(() => scored++);
  await b.drain();
  assert.equal(b.depth, 0);
  assert.equal(scored, 2);
});
