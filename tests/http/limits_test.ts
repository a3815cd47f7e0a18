import assert from "node:assert/strict";
import { bombPngHeader, solidPng } from "./png.ts";
import { multipart, ndjson, testApp, url } from "./setup.ts";

function post(body: BodyInit | null, headers: Record<string, string> = {}, query = ""): Request {
  return new Request(url(`/v1/models/fake/score${query}`), { method: "POST", body, headers });
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const { error } = await res.json();
  return { status: res.status, code: error.code, message: error.message };
}

Deno.test("handler() rejects an empty body with 400", async () => {
  const { app } = testApp();
  const e = await errorOf(await app.handler(post(null, { "content-type": "image/png" })));
  assert.deepEqual(e, {
    status: 400,
    code: "bad_request",
    message: "Cannot score: the request body is empty",
  });
});

Deno.test("handler() rejects an unsupported content type with 415", async () => {
  const { app } = testApp();
  const e = await errorOf(await app.handler(post("hello", { "content-type": "text/plain" })));
  assert.equal(e.status, 415);
  assert.equal(e.code, "unsupported_media_type");
  assert.match(e.message, /^Cannot score a body of type "text\/plain"/);
});

Deno.test("handler() rejects a single image in an unsupported format with 415", async () => {
  const { app } = testApp();
  const webp = new TextEncoder().encode("RIFF\0\0\0\0WEBPVP8 ");
  const e = await errorOf(
    await app.handler(post(webp, { "content-type": "image/png" }, "?name=a.webp")),
  );
  assert.deepEqual(e, {
    status: 415,
    code: "unsupported_media_type",
    message: 'Cannot decode image "a.webp": unsupported format "webp"',
  });
});

Deno.test("handler() rejects a corrupt single image with 422", async () => {
  const { app } = testApp();
  const png = await solidPng(10);
  // Signature and IHDR intact (so the header sniff passes), pixel data cut short.
  const broken = png.slice(0, 40);
  const e = await errorOf(await app.handler(post(broken, { "content-type": "image/png" })));
  assert.equal(e.status, 422);
  assert.equal(e.code, "corrupt_image");
});

Deno.test("handler() rejects a body over the limit with 413 from Content-Length", async () => {
  const { app } = testApp({ maxBodyBytes: 100 });
  const e = await errorOf(
    await app.handler(
      post(new Uint8Array(101), { "content-type": "image/png", "content-length": "101" }),
    ),
  );
  assert.equal(e.status, 413);
  assert.equal(e.code, "payload_too_large");
});

Deno.test("handler() enforces the body limit while reading a stream without Content-Length", async () => {
  const { app } = testApp({ maxBodyBytes: 1000 });
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      pulled++;
      if (pulled > 1000) c.close(); // never reached when the reader stops at the limit
      else c.enqueue(new Uint8Array(300));
    },
  });
  const e = await errorOf(await app.handler(post(body, { "content-type": "image/png" })));
  assert.equal(e.status, 413);
  assert.ok(pulled < 10, `read ${pulled} chunks`);
});

Deno.test("handler() refuses a PNG header declaring too many pixels with 413 before decoding", async () => {
  const { app } = testApp({ maxPixels: 1_000_000 });
  // The header alone: if the decoder ran, the missing pixel data would give 422, not 413.
  const e = await errorOf(
    await app.handler(post(bombPngHeader(50_000, 50_000), { "content-type": "image/png" })),
  );
  assert.equal(e.status, 413);
  assert.equal(e.code, "image_too_large");
  assert.match(e.message, /50000x50000 pixels exceeds the limit of 1000000/);
});

Deno.test("handler() reports a pixel bomb among several images as an error line", async () => {
  const { app } = testApp({ maxPixels: 1_000_000 });
  const form = multipart([
    { name: "bomb.png", bytes: bombPngHeader(50_000, 50_000) },
    { name: "ok.png", bytes: await solidPng(255) },
  ]);
  const lines = await ndjson(await app.handler(post(form)));
  assert.equal((lines[0].error as { code: string }).code, "image_too_large");
  assert.equal(lines[1].score, 1);
});

Deno.test("handler() rejects malformed multipart with 400", async () => {
  const { app } = testApp();
  const e = await errorOf(
    await app.handler(
      post("--nope\r\ngarbage", { "content-type": "multipart/form-data; boundary=xyz" }),
    ),
  );
  assert.equal(e.status, 400);
  assert.equal(e.code, "bad_request");
  assert.match(e.message, /^Cannot parse multipart body/);
});

Deno.test("handler() rejects multipart without file parts with 400", async () => {
  const { app } = testApp();
  const form = new FormData();
  form.append("note", "just text");
  const e = await errorOf(await app.handler(post(form)));
  assert.deepEqual(e, {
    status: 400,
    code: "bad_request",
    message: "Cannot score multipart body: it has no file parts",
  });
});

Deno.test("handler() rejects malformed or incomplete JSON with 400", async () => {
  const { app } = testApp();
  const json = { "content-type": "application/json" };
  for (
    const [body, pattern] of [
      ["{not json", /^Cannot parse JSON body/],
      ['{"images": []}', /"images" must be a non-empty array/],
      ["[1,2]", /expected an object/],
      ['{"images": ["aGk="], "names": []}', /"names" must be an array as long as "images"/],
    ] as const
  ) {
    const e = await errorOf(await app.handler(post(body, json)));
    assert.equal(e.status, 400, body);
    assert.equal(e.code, "bad_request");
    assert.match(e.message, pattern);
  }
});

Deno.test("handler() rejects more images than MAX_IMAGES_PER_REQUEST with 413", async () => {
  const { app } = testApp({ maxImagesPerRequest: 2 });
  const png = await solidPng(1);
  const form = multipart([1, 2, 3].map((i) => ({ name: `${i}.png`, bytes: png })));
  const e = await errorOf(await app.handler(post(form)));
  assert.equal(e.status, 413);
  assert.equal(e.message, "Cannot score more than 2 images in one request: the limit is 2");
});

Deno.test("handler() answers 503 with a Retry-After derived from the drain rate when the queue is full", async () => {
  // Before any batch is measured, the prior (3 s per image) is the drain rate.
  const { app, model } = testApp({ queueMaxImages: 2, queuePriorMsPerImage: 3000 });
  const release = model.hold();
  const png = await solidPng(1);
  const first = await app.handler(
    post(multipart([{ name: "a", bytes: png }, { name: "b", bytes: png }])),
  );
  assert.equal(first.status, 200);
  const e = await app.handler(post(png));
  assert.equal(e.status, 503);
  // One image over the 2-slot limit must drain first: 1 × 3 s.
  assert.equal(e.headers.get("retry-after"), "3");
  assert.equal((await e.json()).error.code, "overloaded");
  release();
  const lines = await ndjson(first);
  assert.equal(lines.length, 3);
  const again = await app.handler(post(png));
  assert.equal(again.status, 200);
  await again.body?.cancel();
});

Deno.test("handler() refuses with 503 before reading the body when the queue is full", async () => {
  const { app, model } = testApp({ queueMaxImages: 1 });
  const release = model.hold();
  // A single image's status waits for its score, so this request stays pending while held.
  const first = app.handler(post(await solidPng(1)));
  await model.started(1);
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      pulled++;
      c.enqueue(new Uint8Array(10));
    },
  });
  const res = await app.handler(post(body, { "content-type": "image/png" }));
  assert.equal(res.status, 503);
  assert.equal((await res.json()).error.code, "overloaded");
  assert.ok(pulled <= 1, `pulled ${pulled} chunks`);
  release();
  assert.equal((await first).status, 200);
  await (await first).text();
});
