import assert from "node:assert/strict";
import { createClient, isErrorLine, type ScoreLine, SiApiError } from "../../client/mod.ts";
import { FAKE_CALIBRATION, FAKE_LABELS } from "../helpers/fake_model.ts";
import { solidPng } from "../http/png.ts";
import { createTestApp, type TestApp } from "./app_helper.ts";

// The fake model scores a solid PNG as red / 255; its calibration threshold is 0.2 and its ID
// scores are 0.1 … 0.9, so red 51 → 0.2 (ID, p 2/9), red 0 → 0 (OOD, p 0), red 204 → 0.8 (p 8/9).

function clientFor(t: TestApp, token?: string) {
  return createClient({ baseUrl: "http://service.test/", token, fetch: t.fetch });
}

Deno.test("scoreImages() yields lines as they stream", async () => {
  // One image per batch, 150 ms each: the first line must arrive before the last is scored.
  const t = createTestApp({ batchMax: 1 }, { delayMs: 150 });
  const images = await Promise.all([10, 20, 30].map((r) => solidPng(r)));
  const run = clientFor(t).scoreImages("fake", images);
  const it = run[Symbol.asyncIterator]();
  const first = await it.next();
  assert.equal((first.value as ScoreLine).index, 0);
  assert.ok(t.model.batches.length < 3, `scored ${t.model.batches.length} of 3 already`);
  const summaryBefore = run.summary;
  assert.equal(summaryBefore, undefined);
  const rest: number[] = [];
  for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value.index);
  assert.deepEqual(rest, [1, 2]);
  assert.equal(run.summary?.images, 3);
  assert.equal(run.summary?.scored, 3);
});

Deno.test("scoreImages() decodes the verdict fields of each line", async () => {
  const t = createTestApp();
  const images = await Promise.all([51, 0, 204].map((r) => solidPng(r)));
  const { results, summary } = await clientFor(t).scoreImages("fake", images).collect();
  const [a, b, c] = results as ScoreLine[];
  assert.ok(Math.abs(a.score - 0.2) < 1e-6);
  assert.equal(a.ood, false);
  assert.equal(a.threshold, FAKE_CALIBRATION.threshold);
  assert.equal(a.p_value, (2 + 1) / (9 + 1)); // 0.1, 0.2 of 9 calibration scores ≤ 0.2
  assert.equal(a.label, FAKE_LABELS[0]);
  assert.equal(a.method, "si");
  assert.equal(b.score, 0);
  assert.equal(b.ood, true);
  assert.equal(b.p_value, 1 / 10); // below all: 1/(n+1)
  assert.ok(Math.abs(c.score - 0.8) < 1e-6);
  assert.equal(c.class, 1);
  assert.equal(c.label, FAKE_LABELS[1]);
  assert.equal(summary.images, 3);
  assert.equal(summary.ood, 1);
  assert.equal(summary.calibrated, true);
});

Deno.test("scoreImages() sends names, media types and query overrides", async () => {
  const t = createTestApp();
  const png = await solidPng(102);
  const file = new File([png.slice()], "shoe.png", { type: "image/png" });
  const explicit = { name: "digit.png", data: png, type: "image/png" };
  const { results, summary } = await clientFor(t).scoreImages("fake", [file, png, explicit], {
    method: "msp",
    alpha: 0.002,
    iterations: 3,
  }).collect();
  assert.deepEqual(results.map((l) => l.name), ["shoe.png", "image-1", "digit.png"]);
  assert.ok(t.model.batches.length > 0);
  for (const { settings } of t.model.batches) {
    assert.equal(settings.method, "msp");
    assert.equal(settings.alpha, 0.002);
    assert.equal(settings.iterations, 3);
  }
  assert.equal(summary.method, "msp");
  // The fake model has no calibration for msp: no verdict.
  assert.equal((results[0] as ScoreLine).ood, null);
  assert.equal(summary.calibrated, false);
});

Deno.test("scoreImages() passes per-image errors through as error lines", async () => {
  const t = createTestApp();
  const corrupt = { name: "broken.png", data: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2]) };
  const { results, summary } = await clientFor(t).scoreImages("fake", [
    corrupt,
    await solidPng(153),
  ]).collect();
  assert.ok(isErrorLine(results[0]));
  assert.equal(results[0].name, "broken.png");
  assert.equal(typeof results[0].error.code, "string");
  assert.ok(results[0].error.message.length > 0);
  assert.ok(!isErrorLine(results[1]));
  assert.ok(Math.abs(results[1].score - 0.6) < 1e-6);
  assert.equal(summary.errors, 1);
});

Deno.test("scoreImages() throws SiApiError for an unknown model", async () => {
  const run = clientFor(createTestApp()).scoreImages("nope", [await solidPng(1)]);
  await assert.rejects(run.collect(), (e: unknown) => {
    assert.ok(e instanceof SiApiError);
    assert.equal(e.status, 404);
    assert.equal(e.code, "not_found");
    assert.match(e.message, /nope/);
    return true;
  });
});

Deno.test("scoreImages() throws SiApiError for a bad parameter", async () => {
  const run = clientFor(createTestApp()).scoreImages("fake", [await solidPng(1)], {
    iterations: -1,
  });
  await assert.rejects(run.collect(), (e: unknown) => {
    return e instanceof SiApiError && e.status === 400 && e.code === "bad_parameter";
  });
});

Deno.test("scoreImages() exposes Retry-After on 503 back-pressure", async () => {
  // 7 s per image before any measurement; a held single image occupies the 1-slot queue.
  const t = createTestApp({ queueMaxImages: 1, queuePriorMsPerImage: 7000 });
  const release = t.model.hold();
  const busy = clientFor(t).scoreImages("fake", [await solidPng(1)]).collect();
  await t.model.started(1);
  await assert.rejects(clientFor(t).scoreImages("fake", [await solidPng(2)]).collect(), (e) => {
    assert.ok(e instanceof SiApiError);
    assert.equal(e.status, 503);
    assert.equal(e.code, "overloaded");
    // The slot frees when the running image is scored: after 7 s.
    assert.equal(e.retryAfter, 7);
    return true;
  });
  release();
  await busy;
});

Deno.test("createClient() sends the bearer token", async () => {
  const t = createTestApp({ authToken: "s3cret" });
  const models = await clientFor(t, "s3cret").listModels();
  assert.deepEqual(models.map((m) => m.id), ["fake"]);
  await assert.rejects(clientFor(t).listModels(), (e: unknown) => {
    return e instanceof SiApiError && e.status === 401 && e.code === "unauthorized";
  });
  await assert.rejects(clientFor(t, "wrong").scoreImages("fake", [await solidPng(1)]).collect(), {
    name: "SiApiError",
    status: 401,
  });
});

Deno.test("getModel() returns labels and calibrations with their ID scores", async () => {
  const client = clientFor(createTestApp());
  const [listed] = await client.listModels();
  assert.equal(listed.id, "fake");
  assert.equal(listed.calibrated, true);
  const model = await client.getModel("fake");
  assert.deepEqual(model.labels, FAKE_LABELS);
  assert.deepEqual(model.calibrations.map((c) => c.method), ["si"]);
  assert.deepEqual(model.calibrations[0].scores, FAKE_CALIBRATION.scores);
  assert.equal(model.calibration?.threshold, FAKE_CALIBRATION.threshold);
  await assert.rejects(client.getModel("missing"), (e: unknown) => {
    return e instanceof SiApiError && e.status === 404 && e.code === "not_found";
  });
});

Deno.test("scoreImages() sends timeoutSeconds as X-Request-Timeout and yields timeout lines", async () => {
  const t = createTestApp({ batchMax: 1 });
  const release = t.model.hold();
  try {
    const images = [await solidPng(1), await solidPng(2)];
    const { results, summary } = await clientFor(t).scoreImages("fake", images, {
      timeoutSeconds: 0.1,
    }).collect();
    assert.deepEqual(results.map((l) => isErrorLine(l) && l.error.code), ["timeout", "timeout"]);
    assert.equal(summary.errors, 2);
  } finally {
    release();
  }
});
