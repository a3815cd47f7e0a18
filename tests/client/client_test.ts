import assert from "node:assert/strict";
import { createClient, isErrorLine, type ScoreLine, SiApiError } from "../../client/mod.ts";
import { CALIBRATION_SCORES, createFakeApi, THRESHOLD } from "./fake_api.ts";

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Bytes that start like a PNG, `n` long (the fake scores an image as byteLength / 100). */
function pngLike(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  bytes.set(PNG_MAGIC);
  return bytes;
}

function clientFor(api: { handler(req: Request): Promise<Response> }, token?: string) {
  return createClient({ baseUrl: "http://service.test/", token, fetch: (r) => api.handler(r) });
}

Deno.test("scoreImages() yields lines as they stream", async () => {
  const api = createFakeApi();
  let open!: () => void;
  api.gate = new Promise((r) => (open = r));
  const run = clientFor(api).scoreImages("fake", [pngLike(30), pngLike(70)]);
  const it = run[Symbol.asyncIterator]();
  const first = await it.next();
  // The server is still holding back the second line, yet the first one is already here.
  assert.equal(api.finished, false);
  assert.equal((first.value as ScoreLine).index, 0);
  assert.equal(run.summary, undefined);
  open();
  const second = await it.next();
  assert.equal((second.value as ScoreLine).index, 1);
  assert.equal((await it.next()).done, true);
  assert.deepEqual(run.summary, { count: 2 });
});

Deno.test("scoreImages() decodes the verdict fields of each line", async () => {
  const api = createFakeApi();
  const { results, summary } = await clientFor(api).scoreImages("fake", [pngLike(30), pngLike(70)])
    .collect();
  assert.deepEqual(summary, { count: 2 });
  const [a, b] = results as ScoreLine[];
  assert.equal(a.score, 0.3);
  assert.equal(a.ood, true);
  assert.equal(a.threshold, THRESHOLD);
  assert.equal(a.p_value, 1 / CALIBRATION_SCORES.length);
  assert.equal(b.score, 0.7);
  assert.equal(b.ood, false);
  assert.equal(b.p_value, 3 / CALIBRATION_SCORES.length);
});

Deno.test("scoreImages() uploads one named multipart part per image with query overrides", async () => {
  const api = createFakeApi();
  const file = new File([new Uint8Array(PNG_MAGIC)], "shoe.png", { type: "image/png" });
  const explicit = { name: "digit.gif", data: new Uint8Array([1, 2, 3]), type: "image/gif" };
  await clientFor(api).scoreImages("fake", [file, pngLike(10), explicit], {
    method: "msp",
    alpha: 0.002,
    iterations: 3,
  }).collect();
  const req = api.requests[0];
  assert.equal(req.method, "POST");
  const url = new URL(req.url);
  assert.equal(url.pathname, "/v1/models/fake/score");
  assert.equal(url.searchParams.get("method"), "msp");
  assert.equal(url.searchParams.get("alpha"), "0.002");
  assert.equal(url.searchParams.get("iterations"), "3");
  assert.equal(url.searchParams.has("loss"), false);
  const parts = (await req.formData()).getAll("image") as File[];
  assert.deepEqual(parts.map((p) => [p.name, p.type, p.size]), [
    ["shoe.png", "image/png", 8],
    ["image-1", "image/png", 10], // type sniffed from the PNG signature
    ["digit.gif", "image/gif", 3],
  ]);
});

Deno.test("scoreImages() passes per-image errors through as error lines", async () => {
  const api = createFakeApi();
  const junk = new Blob(["not an image"], { type: "text/plain" });
  const { results } = await clientFor(api).scoreImages("fake", [junk, pngLike(60)]).collect();
  assert.equal(results.length, 2);
  assert.ok(isErrorLine(results[0]));
  assert.equal(results[0].error.code, "corrupt_image");
  assert.ok(!isErrorLine(results[1]));
  assert.equal(results[1].score, 0.6);
});

Deno.test("scoreImages() throws SiApiError for an unknown model", async () => {
  const run = clientFor(createFakeApi()).scoreImages("nope", [pngLike(10)]);
  await assert.rejects(run.collect(), (e: unknown) => {
    assert.ok(e instanceof SiApiError);
    assert.equal(e.status, 404);
    assert.equal(e.code, "not_found");
    assert.equal(e.message, "No such model");
    return true;
  });
});

Deno.test("scoreImages() exposes Retry-After on 503 back-pressure", async () => {
  const run = clientFor(createFakeApi({ overloaded: true })).scoreImages("fake", [pngLike(10)]);
  await assert.rejects(run.collect(), (e: unknown) => {
    assert.ok(e instanceof SiApiError);
    assert.equal(e.status, 503);
    assert.equal(e.code, "overloaded");
    assert.equal(e.retryAfter, 3);
    return true;
  });
});

Deno.test("createClient() sends the bearer token", async () => {
  const api = createFakeApi({ token: "s3cret" });
  const models = await clientFor(api, "s3cret").listModels();
  assert.equal(models.length, 1);
  await assert.rejects(clientFor(api).listModels(), (e: unknown) => {
    assert.ok(e instanceof SiApiError);
    assert.equal(e.status, 401);
    assert.equal(e.code, "unauthorized");
    return true;
  });
});

Deno.test("listModels() and getModel() return manifest and calibration", async () => {
  const client = clientFor(createFakeApi());
  const [listed] = await client.listModels();
  assert.equal(listed.id, "fake");
  assert.deepEqual(listed.calibration?.[0].scores, CALIBRATION_SCORES);
  const model = await client.getModel("fake");
  assert.equal(model.id, "fake");
  assert.equal(model.calibration?.[0].threshold, THRESHOLD);
  await assert.rejects(client.getModel("missing"), (e: unknown) => {
    return e instanceof SiApiError && e.status === 404 && e.code === "not_found";
  });
});

Deno.test("scoreImages() cancels the stream when the loop exits early", async () => {
  const api = createFakeApi();
  api.gate = new Promise(() => {}); // never opens: the last line would never come
  for await (const line of clientFor(api).scoreImages("fake", [pngLike(10), pngLike(20)])) {
    assert.equal(line.index, 0);
    break;
  }
  assert.equal(api.cancelled, true);
  assert.equal(api.finished, false);
});

Deno.test("scoreImages() reports a stream cut before its summary", async () => {
  const cut = () =>
    Promise.resolve(
      new Response('{"index":0,"name":"a","score":1}\n', {
        headers: { "content-type": "application/x-ndjson" },
      }),
    );
  const client = createClient({ baseUrl: "http://x.test", fetch: cut });
  const seen: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const line of client.scoreImages("m", [pngLike(8)])) seen.push(line.index);
    })(),
    (e: unknown) => e instanceof SiApiError && e.code === "truncated",
  );
  assert.deepEqual(seen, [0]);
});

Deno.test("scoreImages() turns a mid-stream error line into SiApiError", async () => {
  const body =
    '{"index":0,"name":"a","score":1}\n{"error":{"code":"shutting_down","message":"bye"}}\n';
  const client = createClient({
    baseUrl: "http://x.test",
    fetch: () => Promise.resolve(new Response(body)),
  });
  await assert.rejects(
    client.scoreImages("m", [pngLike(8)]).collect(),
    (e: unknown) => e instanceof SiApiError && e.code === "shutting_down" && e.message === "bye",
  );
});

Deno.test("listModels() keeps a non-JSON error body readable", async () => {
  const client = createClient({
    baseUrl: "http://x.test",
    fetch: () => Promise.resolve(new Response("<h1>Bad Gateway</h1>", { status: 502 })),
  });
  await assert.rejects(client.listModels(), (e: unknown) => {
    assert.ok(e instanceof SiApiError);
    assert.equal(e.status, 502);
    assert.equal(e.code, "http_502");
    assert.match(e.message, /Bad Gateway/);
    return true;
  });
});
