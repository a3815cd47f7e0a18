import assert from "node:assert/strict";
import { createFakeModel, FAKE_CALIBRATION } from "../helpers/fake_model.ts";
import { testApp, url } from "./setup.ts";

Deno.test("handler() answers GET /healthz with 200 even before models are ready", async () => {
  const { app } = testApp({}, { ready: false });
  const res = await app.handler(new Request(url("/healthz")));
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: "ok" });
});

Deno.test("handler() answers GET /readyz with 503 until the registry is ready, then 200", async () => {
  const { app, registry } = testApp({}, { ready: false });
  const before = await app.handler(new Request(url("/readyz")));
  assert.equal(before.status, 503);
  assert.equal((await before.json()).error.code, "not_ready");
  registry.ready = true;
  const after = await app.handler(new Request(url("/readyz")));
  assert.equal(after.status, 200);
  assert.deepEqual(await after.json(), { status: "ready", models: ["fake"] });
});

Deno.test("handler() lists models on GET /v1/models", async () => {
  const a = createFakeModel({ id: "alpha" });
  const b = createFakeModel({ id: "beta", calibration: null, backend: "native" });
  const { app } = testApp({}, { models: [a, b] });
  const res = await app.handler(new Request(url("/v1/models")));
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.ready, true);
  assert.deepEqual(body.models.map((m: { id: string }) => m.id), ["alpha", "beta"]);
  assert.equal(body.models[0].calibrated, true);
  assert.equal(body.models[1].calibrated, false);
  assert.equal(body.models[1].backend, "native");
  assert.deepEqual(body.models[0].input, [1, 2, 2]);
});

Deno.test("handler() describes one model on GET /v1/models/{model}", async () => {
  const { app } = testApp();
  const res = await app.handler(new Request(url("/v1/models/fake")));
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.id, "fake");
  assert.equal(body.backend, "wasm");
  assert.deepEqual(body.labels, ["dark", "bright"]);
  assert.equal(body.manifest.name, "fake");
  assert.deepEqual(body.calibration.scores, FAKE_CALIBRATION.scores);
  assert.equal(body.calibration.threshold, 0.2);
  assert.equal(body.calibrations.length, 1);
});

Deno.test("handler() rejects an unknown model with 404", async () => {
  const { app } = testApp();
  for (const path of ["/v1/models/nope", "/v1/models/nope/score"]) {
    const method = path.endsWith("score") ? "POST" : "GET";
    const res = await app.handler(
      new Request(url(path), { method, body: method === "POST" ? "x" : undefined }),
    );
    assert.equal(res.status, 404, path);
    assert.deepEqual(await res.json(), {
      error: { code: "not_found", message: 'Cannot find model "nope"' },
    });
  }
});

Deno.test("handler() rejects model ids outside the id pattern before looking them up", async () => {
  const looked: string[] = [];
  const { app, registry } = testApp();
  const get = registry.get;
  registry.get = (id) => (looked.push(id), get(id));
  for (const id of ["..%2F..%2Fetc", "UPPER", "-dash", "a".repeat(65), "sp%20ace"]) {
    const res = await app.handler(new Request(url(`/v1/models/${id}`)));
    assert.equal(res.status, 404, id);
    assert.equal((await res.json()).error.code, "not_found");
  }
  assert.deepEqual(looked, []);
});

Deno.test("handler() answers 503 not_ready for a model while models are loading", async () => {
  const { app } = testApp({}, { ready: false, models: [] });
  const res = await app.handler(new Request(url("/v1/models/fake")));
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "1");
  assert.equal((await res.json()).error.code, "not_ready");
});

Deno.test("handler() answers 405 with Allow for a wrong method and 404 for unknown paths", async () => {
  const { app } = testApp();
  const res = await app.handler(new Request(url("/v1/models/fake/score")));
  assert.equal(res.status, 405);
  assert.equal(res.headers.get("allow"), "POST");
  assert.equal((await res.json()).error.code, "method_not_allowed");
  const missing = await app.handler(new Request(url("/v1/nothing")));
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, "not_found");
});

Deno.test("handler() turns unexpected errors into 500 without leaking their message", async () => {
  const { app, registry } = testApp();
  registry.get = () => {
    throw new Error("secret /var/lib/models path");
  };
  const orig = console.error;
  console.error = () => {};
  try {
    const res = await app.handler(new Request(url("/v1/models/fake")));
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.deepEqual(JSON.parse(text), {
      error: { code: "internal", message: "Internal server error" },
    });
    assert.ok(!text.includes("secret"));
  } finally {
    console.error = orig;
  }
});

Deno.test("handler() serves Prometheus metrics on GET /metrics", async () => {
  const { app } = testApp();
  await (await app.handler(new Request(url("/healthz")))).text();
  await (await app.handler(new Request(url("/v1/models/nope")))).text();
  const res = await app.handler(new Request(url("/metrics")));
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.match(text, /^si_http_requests_total\{route="healthz",status="200"\} 1$/m);
  assert.match(text, /^si_http_requests_total\{route="model",status="404"\} 1$/m);
  assert.match(text, /^si_errors_total\{code="not_found"\} 1$/m);
  assert.match(text, /^si_queue_depth 0$/m);
  assert.match(text, /^# TYPE si_http_request_duration_seconds histogram$/m);
  assert.match(text, /^si_http_request_duration_seconds_count\{route="healthz"\} 1$/m);
});

Deno.test("handler() says on /readyz when background model loading failed", async () => {
  const { app, registry } = testApp({}, { ready: false });
  Object.assign(registry, { error: new Error("bad manifest at /srv/secret") });
  const res = await app.handler(new Request(url("/readyz")));
  assert.equal(res.status, 503);
  const text = await res.text();
  assert.equal(
    JSON.parse(text).error.message,
    "Cannot serve yet: loading models failed (see the server log)",
  );
  assert.ok(!text.includes("secret"));
});

Deno.test("handler() answers 414 with a JSON body for a URL over MAX_URL_BYTES", async () => {
  const { app } = testApp({ maxUrlBytes: 1024 });
  const res = await app.handler(new Request(url(`/v1/models?name=${"a".repeat(2000)}`)));
  assert.equal(res.status, 414);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  const { error } = await res.json();
  assert.equal(error.code, "url_too_long");
  assert.match(error.message, /the limit is 1024/);
  const fine = await app.handler(new Request(url(`/v1/models?name=${"a".repeat(900)}`)));
  assert.equal(fine.status, 200);
  await fine.body?.cancel();
});
