import assert from "node:assert/strict";
import { b64, multipart, ndjson, testApp, url } from "./setup.ts";
import { solidPng } from "./png.ts";

const near = (a: unknown, b: number) =>
  assert.ok(Math.abs((a as number) - b) < 1e-6, `${a} ≈ ${b}`);

function post(path: string, body: BodyInit, headers: Record<string, string> = {}): Request {
  return new Request(url(path), { method: "POST", body, headers });
}

Deno.test("handler() scores one PNG body into a result line and a summary line", async () => {
  const { app } = testApp();
  const res = await app.handler(
    post("/v1/models/fake/score?name=a.png", await solidPng(102), { "content-type": "image/png" }),
  );
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^application\/x-ndjson/);
  const [line, last] = await ndjson(res);
  // red 102 → fake score 0.4; calibration scores 0.1…0.9 → 4 of 9 at or below, p = (4+1)/(9+1);
  // threshold 0.2.
  assert.equal(line.index, 0);
  assert.equal(line.name, "a.png");
  near(line.score, 0.4);
  assert.equal(line.ood, false);
  assert.equal(line.threshold, 0.2);
  near(line.p_value, 5 / 10);
  assert.equal(line.class, 0);
  assert.equal(line.label, "dark");
  near(line.confidence, 0.6);
  assert.equal(line.method, "si");
  assert.equal("layers" in line, false);
  const summary = last.summary as Record<string, unknown>;
  assert.equal(summary.images, 1);
  assert.equal(summary.scored, 1);
  assert.equal(summary.errors, 0);
  assert.equal(summary.ood, 0);
  assert.equal(typeof summary.ms, "number");
});

Deno.test("handler() flags a low score as OOD with the smallest p-value and names the bright class", async () => {
  const { app } = testApp();
  const [dark] = await ndjson(await app.handler(post("/v1/models/fake/score", await solidPng(0))));
  assert.equal(dark.score, 0);
  assert.equal(dark.ood, true);
  assert.equal(dark.p_value, 1 / 10); // below all 9 calibration scores: 1/(n+1)
  const [bright] = await ndjson(
    await app.handler(post("/v1/models/fake/score", await solidPng(255))),
  );
  assert.equal(bright.score, 1);
  assert.equal(bright.p_value, 1);
  assert.equal(bright.label, "bright");
});

Deno.test("handler() scores multipart images in input order with an error line for a bad one", async () => {
  const { app } = testApp();
  const form = multipart([
    { name: "one.png", bytes: await solidPng(51 * 3) },
    { name: "bad.png", bytes: new TextEncoder().encode("not an image at all") },
    { name: "three.png", bytes: await solidPng(51 * 4) },
  ]);
  const res = await app.handler(post("/v1/models/fake/score", form));
  assert.equal(res.status, 200);
  const lines = await ndjson(res);
  assert.equal(lines.length, 4);
  assert.deepEqual(lines.slice(0, 3).map((l) => [l.index, l.name]), [
    [0, "one.png"],
    [1, "bad.png"],
    [2, "three.png"],
  ]);
  near(lines[0].score, 0.6);
  assert.deepEqual(lines[1].error, {
    code: "unsupported_media_type",
    message: 'Cannot decode image "bad.png": unsupported format "unknown"',
  });
  near(lines[2].score, 0.8);
  const summary = lines[3].summary as Record<string, number>;
  assert.deepEqual([summary.images, summary.scored, summary.errors], [3, 2, 1]);
});

Deno.test("handler() scores JSON base64 images with names and reports bad base64 per image", async () => {
  const { app } = testApp();
  const body = JSON.stringify({
    images: [
      b64(await solidPng(102)),
      "%%%not-base64",
      `data:image/png;base64,${b64(await solidPng(255))}`,
    ],
    names: ["x", "y", "z"],
  });
  const lines = await ndjson(
    await app.handler(post("/v1/models/fake/score", body, { "content-type": "application/json" })),
  );
  assert.deepEqual(lines.slice(0, 3).map((l) => l.name), ["x", "y", "z"]);
  near(lines[0].score, 0.4);
  assert.equal((lines[1].error as { code: string }).code, "bad_request");
  assert.equal(lines[2].score, 1);
});

Deno.test("handler() applies query overrides and reports uncalibrated methods with nulls", async () => {
  const { app, model } = testApp();
  const q = "method=msp&alpha=0.5&iterations=3&loss=max&integrate=multiply";
  const [line] = await ndjson(
    await app.handler(post(`/v1/models/fake/score?${q}`, await solidPng(102))),
  );
  assert.deepEqual(model.batches[0].settings, {
    method: "msp",
    alpha: 0.5,
    iterations: 3,
    loss: "max",
    integrate: "multiply",
  });
  assert.equal(line.method, "msp");
  assert.equal(line.ood, null);
  assert.equal(line.threshold, null);
  assert.equal(line.p_value, null);
});

Deno.test("handler() rejects each bad query parameter with 400 bad_parameter naming it", async () => {
  const { app } = testApp();
  const png = await solidPng(1);
  for (
    const [q, name] of [
      ["method=svm", "method"],
      ["alpha=abc", "alpha"],
      ["alpha=-1", "alpha"],
      ["iterations=0", "iterations"],
      ["iterations=2.5", "iterations"],
      ["iterations=11", "iterations"],
      ["loss=l2", "loss"],
      ["integrate=max", "integrate"],
    ]
  ) {
    const res = await app.handler(post(`/v1/models/fake/score?${q}`, png));
    assert.equal(res.status, 400, q);
    const { error } = await res.json();
    assert.equal(error.code, "bad_parameter");
    assert.ok(error.message.startsWith(`Invalid parameter "${name}"`), error.message);
  }
});

Deno.test("handler() includes per-layer values when the scorer returns them", async () => {
  const { app } = testApp({}, { model: { layers: true } });
  const [line] = await ndjson(
    await app.handler(post("/v1/models/fake/score", await solidPng(255))),
  );
  assert.deepEqual(line.layers, [1, 1]);
});

Deno.test("handler() answers 500 without details when the scorer fails a single image", async () => {
  const { app, model } = testApp();
  model.failWith = new Error("onnxruntime exploded at /secret");
  const orig = console.error;
  console.error = () => {};
  try {
    const res = await app.handler(post("/v1/models/fake/score?name=q", await solidPng(1)));
    assert.equal(res.status, 500);
    const text = await res.text();
    const line = JSON.parse(text.split("\n")[0]);
    assert.deepEqual(line.error, {
      code: "internal",
      message: 'Cannot score image "q": internal error',
    });
    assert.ok(!text.includes("secret"));
  } finally {
    console.error = orig;
  }
});

Deno.test("handler() counts scored images and errors in /metrics", async () => {
  const { app } = testApp();
  const form = multipart([
    { name: "a.png", bytes: await solidPng(1) },
    { name: "b.png", bytes: new Uint8Array([1, 2, 3]) },
  ]);
  await (await app.handler(post("/v1/models/fake/score", form))).text();
  const text = await (await app.handler(new Request(url("/metrics")))).text();
  assert.match(text, /^si_images_total\{model="fake",outcome="scored"\} 1$/m);
  assert.match(text, /^si_images_total\{model="fake",outcome="error"\} 1$/m);
  assert.match(text, /^si_errors_total\{code="unsupported_media_type"\} 1$/m);
  assert.match(text, /^si_batch_size_count\{model="fake"\} 1$/m);
  assert.match(text, /^si_http_request_duration_seconds_count\{route="score"\} 1$/m);
});
