import assert from "node:assert/strict";
import { ApiError } from "../../src/errors.ts";
import { Batcher, batchKey } from "../../src/serve/batcher.ts";
import { DrainRate, drainSchedule } from "../../src/serve/drain_rate.ts";
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

Deno.test("Batcher.admit() refuses over queueMaxImages with Retry-After from the drain rate", () => {
  const model = createFakeModel();
  // 0.25 images/s = 4 s per image. The 2 admitted images will be scored in one batch of 2
  // (batchMax 4): slots free only when it finishes, after 8 s.
  const b = new Batcher({
    batchMax: 4,
    batchWaitMs: 0,
    queueMaxImages: 3,
    priorImagesPerSecond: 0.25,
  });
  b.admit(model, DEFAULT_SETTINGS, 2);
  assert.throws(() => b.admit(model, DEFAULT_SETTINGS, 2), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 503);
    assert.equal(e.code, "overloaded");
    assert.equal(e.headers["retry-after"], "8");
    assert.match(e.message, /2 of 3 queue slots are in use/);
    return true;
  });
  const last = b.admit(model, DEFAULT_SETTINGS, 1);
  assert.equal(b.depth, 3);
  last.release();
  assert.equal(b.depth, 2);
});

Deno.test("Batcher bounds the expected wait at the measured rate and derives Retry-After from it", () => {
  const model = createFakeModel();
  const rate = new DrainRate(1000);
  // A measured batch: 4 images in 2 s = 0.5 s per image.
  rate.record(batchKey(model, DEFAULT_SETTINGS), 4, 2);
  const b = new Batcher({
    batchMax: 4,
    batchWaitMs: 0,
    queueMaxImages: 1000,
    maxWaitSeconds: 2,
    drainRate: rate,
  });
  // An empty queue admits any count: waiting could not make the request faster.
  b.admit(model, DEFAULT_SETTINGS, 10);
  assert.equal(b.expectedWaitSeconds, 5);
  assert.throws(() => b.admit(model, DEFAULT_SETTINGS, 1), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, "overloaded");
    // Batches of 4, 4 and 2 images finish at 2 s, 4 s and 5 s; after the second, 1 s is left
    // ahead, within the 2 s allowed.
    assert.equal(e.headers["retry-after"], "4");
    assert.match(e.message, /about 5\.0 s at 2\.00 images\/s/);
    return true;
  });
});

Deno.test("Batcher refuses a request whose deadline ends before its first image could be scored", () => {
  const model = createFakeModel();
  const rate = new DrainRate(1000);
  rate.record(batchKey(model, DEFAULT_SETTINGS), 1, 0.5);
  const b = new Batcher({ batchMax: 4, batchWaitMs: 0, queueMaxImages: 1000, drainRate: rate });
  b.admit(model, DEFAULT_SETTINGS, 10); // batches of 4, 4, 2 finish at 2, 4 and 5 s
  // 5 s ahead + 0.5 s for its own first image > 5 s. After the first batch (2 s), 3 s are left.
  assert.throws(
    () => b.admit(model, DEFAULT_SETTINGS, 1, { waitLimitSeconds: 5 }),
    (e: unknown) => e instanceof ApiError && e.headers["retry-after"] === "2",
  );
  b.admit(model, DEFAULT_SETTINGS, 1, { waitLimitSeconds: 5.5 });
  assert.equal(b.depth, 11);
});

Deno.test("Batcher measures the drain rate of scored batches, replacing the prior", async () => {
  const model = createFakeModel({ delayMs: 200 });
  const b = new Batcher({
    batchMax: 2,
    batchWaitMs: 0,
    queueMaxImages: 10,
    priorImagesPerSecond: 1000,
  });
  assert.equal(b.imagesPerSecond(model, DEFAULT_SETTINGS), 1000);
  const a = b.admit(model, DEFAULT_SETTINGS, 2);
  await Promise.all([a.submit(input(1)), a.submit(input(1))]);
  // One batch of 2 took at least the fake's 200 ms: at most 10 images/s.
  const rate = b.imagesPerSecond(model, DEFAULT_SETTINGS);
  assert.ok(rate > 1 && rate <= 10, `measured ${rate} images/s`);
});

Deno.test("Batcher drops a request's queued images when its signal aborts", async () => {
  const model = createFakeModel();
  const release = model.hold();
  const b = new Batcher({ batchMax: 1, batchWaitMs: 0, queueMaxImages: 10 });
  const ac = new AbortController();
  const gone = b.admit(model, DEFAULT_SETTINGS, 3, { signal: ac.signal });
  const stays = b.admit(model, DEFAULT_SETTINGS, 1);
  const p = Promise.allSettled([
    gone.submit(input(0.1)),
    gone.submit(input(0.2)),
    gone.submit(input(0.3)),
  ]);
  const kept = stays.submit(input(0.9));
  await model.started(1); // the first image of `gone` is being scored
  ac.abort();
  for (const r of await p) {
    assert.equal(r.status, "rejected");
    assert.equal((r as PromiseRejectedResult).reason.name, "AbortError");
  }
  // The running batch held only the gone request's image: the scorer was told to stop.
  assert.equal(model.aborted, 1);
  assert.equal(b.depth, 1, "only the other request's image remains");
  release();
  assert.ok(Math.abs((await kept).score - 0.9) < 1e-6);
  assert.deepEqual(model.batches.map((x) => x.size), [1]);
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

Deno.test("Batcher aborts a running batch once every request in it went away", async () => {
  const model = createFakeModel();
  const release = model.hold();
  const b = new Batcher({ batchMax: 2, batchWaitMs: 50, queueMaxImages: 10 });
  const one = new AbortController();
  const two = new AbortController();
  const r1 = b.admit(model, DEFAULT_SETTINGS, 1, { signal: one.signal });
  const r2 = b.admit(model, DEFAULT_SETTINGS, 1, { signal: two.signal });
  const p = Promise.allSettled([r1.submit(input(1)), r2.submit(input(1))]);
  await model.started(1);
  one.abort();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(model.aborted, 0, "the other request still wants its image");
  two.abort();
  assert.deepEqual((await p).map((r) => r.status), ["rejected", "rejected"]);
  assert.equal(model.aborted, 1);
  assert.equal(model.batches.length, 0, "the scorer stopped before finishing the batch");
  await b.drain();
  assert.equal(b.depth, 0);
  release();
});

Deno.test("DrainRate averages seconds per image per key and falls back to any key, then the prior", () => {
  const rate = new DrainRate(4); // prior: 0.25 s per image
  assert.equal(rate.secondsPerImage("a"), 0.25);
  assert.equal(rate.measured, false);
  rate.record("a", 2, 1); // 0.5 s per image
  assert.equal(rate.secondsPerImage("a"), 0.5);
  assert.equal(rate.secondsPerImage("b"), 0.5, "an unmeasured key borrows the measured mean");
  rate.record("a", 1, 1); // 1 s per image, weighted 0.3: 0.5 + 0.3 × 0.5
  assert.ok(Math.abs(rate.secondsPerImage("a") - 0.65) < 1e-12);
  assert.equal(rate.measured, true);
});

Deno.test("Batcher answers 413 for more images than the whole queue holds", () => {
  const b = new Batcher({ batchMax: 4, batchWaitMs: 0, queueMaxImages: 3 });
  assert.throws(() => b.admit(createFakeModel(), DEFAULT_SETTINGS, 4), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 413);
    assert.equal(e.message, "Cannot queue 4 images in one request: the queue holds at most 3");
    return true;
  });
});

Deno.test("drainSchedule() counts down the running batch and queues the rest in batchMax chunks", () => {
  const rate = new DrainRate(1); // 1 s per image
  const events = drainSchedule(
    rate,
    [{ key: "k", images: 3, elapsedS: 2 }],
    new Map([["k", 8]]),
    2,
  );
  // Running: 3 s of work, 2 s done → 1 s. Then 5 waiting images in batches of 2, 2, 1.
  assert.deepEqual(events, [
    { at: 1, images: 3 },
    { at: 3, images: 2 },
    { at: 5, images: 2 },
    { at: 6, images: 1 },
  ]);
});

Deno.test("Batcher serves requests FIFO: a batch takes earlier requests' images first, still filled", async () => {
  const model = createFakeModel();
  const b = new Batcher({ batchMax: 2, batchWaitMs: 20, queueMaxImages: 100 });
  const r1 = b.admit(model, DEFAULT_SETTINGS, 3);
  const r2 = b.admit(model, DEFAULT_SETTINGS, 3);
  // Interleaved as two concurrent requests decode. The first batch starts as soon as it is full
  // (nothing else is queued yet); then r1's images go first. Before, batches were [.1 .2] [.3 .4]
  // [.5 .6] and both requests finished with the last batch; now r1 finishes with the second.
  await Promise.all([
    r1.submit(input(0.1)),
    r2.submit(input(0.2)),
    r1.submit(input(0.3)),
    r2.submit(input(0.4)),
    r1.submit(input(0.5)),
    r2.submit(input(0.6)),
  ]);
  const batches = model.batches.map((x) => x.scores.map((s) => Math.round(s * 10) / 10));
  assert.deepEqual(batches, [[0.1, 0.2], [0.3, 0.5], [0.4, 0.6]]);
});

Deno.test("Batcher spreads Retry-After over refused clients by their place in line", () => {
  const model = createFakeModel();
  const b = new Batcher({
    batchMax: 1,
    batchWaitMs: 0,
    queueMaxImages: 2,
    priorImagesPerSecond: 1 / 3,
  });
  b.admit(model, DEFAULT_SETTINGS, 2);
  const retries: number[] = [];
  for (let i = 0; i < 5; i++) {
    try {
      b.admit(model, DEFAULT_SETTINGS, 1);
      assert.fail("admitted over the queue limit");
    } catch (e) {
      assert.ok(e instanceof ApiError && e.code === "overloaded");
      retries.push(Number(e.headers["retry-after"]));
    }
  }
  // The first is told 3 s (one image of 3 s must drain); each next one 3 s later than the last.
  assert.deepEqual(retries, [3, 6, 9, 12, 15]);
});
