import assert from "node:assert/strict";
import { solidPng } from "./png.ts";
import { multipart, ndjson, testApp, url } from "./setup.ts";

function post(body: BodyInit, headers: Record<string, string> = {}): Request {
  return new Request(url("/v1/models/fake/score"), { method: "POST", body, headers });
}

async function images(n: number): Promise<FormData> {
  const png = await solidPng(51);
  return multipart(Array.from({ length: n }, (_, i) => ({ name: `${i}.png`, bytes: png })));
}

Deno.test("handler() ends images not scored by X-Request-Timeout with timeout lines", async () => {
  const t = testApp({ batchMax: 1 });
  const release = t.model.hold();
  const res = await t.app.handler(post(await images(3), { "x-request-timeout": "0.2" }));
  assert.equal(res.status, 200, "the status is committed once every image is queued");
  assert.equal(res.headers.get("x-request-timeout"), "0.2");
  const lines = await ndjson(res);
  assert.deepEqual(
    lines.slice(0, 3).map((l) => (l.error as { code: string }).code),
    ["timeout", "timeout", "timeout"],
  );
  assert.match((lines[0].error as { message: string }).message, /deadline of 0.2 s/);
  assert.equal((lines[3].summary as { errors: number }).errors, 3);
  // Queued images left the queue; the running batch (only this request's) was told to stop.
  await t.app.batcher.drain();
  assert.equal(t.model.aborted, 1);
  release();
  const metrics = await (await t.app.handler(new Request(url("/metrics")))).text();
  assert.match(metrics, /^si_images_total\{model="fake",outcome="timeout"\} 3$/m);
  assert.doesNotMatch(metrics, /outcome="(scored|cancelled)"/);
});

Deno.test("handler() answers 504 timeout for a single image not scored by its deadline", async () => {
  const t = testApp();
  const release = t.model.hold();
  const res = await t.app.handler(post(await solidPng(1), { "x-request-timeout": "0.1" }));
  assert.equal(res.status, 504);
  assert.equal((await res.json()).error.code, "timeout");
  release();
});

Deno.test("handler() caps X-Request-Timeout at REQUEST_TIMEOUT_MAX_S and rejects a bad one", async () => {
  const t = testApp({ requestTimeoutMaxS: 5 });
  const capped = await t.app.handler(post(await solidPng(1), { "x-request-timeout": "999" }));
  assert.equal(capped.headers.get("x-request-timeout"), "5");
  await capped.text();
  const absent = await t.app.handler(post(await solidPng(1)));
  assert.equal(absent.headers.get("x-request-timeout"), "5");
  await absent.text();
  for (const bad of ["abc", "0", "-1", ""]) {
    const res = await t.app.handler(post(await solidPng(1), { "x-request-timeout": bad }));
    assert.equal(res.status, 400, bad);
    const { error } = await res.json();
    assert.equal(error.code, "bad_parameter");
    assert.match(error.message, /X-Request-Timeout/);
  }
});

Deno.test("handler() refuses work whose expected wait exceeds QUEUE_MAX_WAIT_S, Retry-After from the rate", async () => {
  // Prior 5 s per image; 2 images admitted into the empty queue = 10 s ahead; limit 3 s. Image 0
  // runs alone (batch wait 0) and image 1 follows: room only when both finished, after 10 s.
  const t = testApp({ queuePriorMsPerImage: 5000, queueMaxWaitS: 3 });
  const release = t.model.hold();
  const first = await t.app.handler(post(await images(2)));
  assert.equal(first.status, 200);
  const refused = await t.app.handler(post(await solidPng(1)));
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get("retry-after"), "10");
  const { error } = await refused.json();
  assert.equal(error.code, "overloaded");
  assert.match(error.message, /about 10\.0 s at 0\.20 images\/s/);
  release();
  await first.text();
});

Deno.test("handler() refuses a request whose own deadline the queue ahead would overrun", async () => {
  const t = testApp({ queuePriorMsPerImage: 1000, queueMaxWaitS: 60 });
  const release = t.model.hold();
  // 4 s ahead: image 0 runs alone (1 s), images 1–3 follow in one batch (3 s more).
  const first = await t.app.handler(post(await images(4)));
  const short = await t.app.handler(post(await solidPng(1), { "x-request-timeout": "2" }));
  assert.equal(short.status, 503);
  // 4 s ahead + 1 s for its own image > 2 s; after the first batch 3 s are still ahead, so it
  // fits only once all 4 are done.
  assert.equal(short.headers.get("retry-after"), "4");
  await short.body?.cancel();
  release();
  await first.text();
});

Deno.test("handler() answers the first image's 4xx when every image of a request is invalid", async () => {
  const t = testApp();
  // Signature and IHDR intact (so the header sniff passes), pixel data cut short.
  const broken = (await solidPng(10)).slice(0, 40);
  const form = multipart([
    { name: "a.png", bytes: broken },
    { name: "b.bin", bytes: new Uint8Array([1, 2, 3]) },
  ]);
  const res = await t.app.handler(post(form));
  assert.equal(res.status, 422);
  const body = await res.json();
  assert.equal(body.error.code, "corrupt_image");
  assert.match(body.error.message, /^Cannot score any of the 2 images; the first failed: /);
  assert.deepEqual(
    body.lines.map((l: { index: number; error: { code: string } }) => [l.index, l.error.code]),
    [[0, "corrupt_image"], [1, "unsupported_media_type"]],
  );
  const metrics = await (await t.app.handler(new Request(url("/metrics")))).text();
  assert.match(metrics, /^si_images_total\{model="fake",outcome="error"\} 2$/m);
  assert.match(metrics, /^si_errors_total\{code="corrupt_image"\} 1$/m);
});

Deno.test("handler() streams 200 when at least one image of several is valid", async () => {
  const t = testApp();
  const form = multipart([
    { name: "bad.bin", bytes: new Uint8Array([1, 2, 3]) },
    { name: "ok.png", bytes: await solidPng(51) },
  ]);
  const res = await t.app.handler(post(form));
  assert.equal(res.status, 200);
  const lines = await ndjson(res);
  assert.equal((lines[0].error as { code: string }).code, "unsupported_media_type");
  assert.equal(lines[1].name, "ok.png");
});
