import assert from "node:assert/strict";
import { MAX_OTHER_VALUES, readJsonImages } from "../../src/http/json_images.ts";
import { MAX_FORM_FIELDS, readMultipart } from "../../src/http/multipart.ts";
import { ApiError } from "../../src/errors.ts";
import { testApp, url } from "./setup.ts";

const enc = new TextEncoder();

function statusOf(f: () => unknown): number {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return e.status;
    throw e;
  }
  return 200;
}

Deno.test("readJsonImages() refuses the first entry past the limit without reading further", () => {
  // 65 entries, then a body that is not JSON at all: a whole-document parse answers 400 here,
  // the incremental reader 413 because it stops at entry 65.
  const body = enc.encode(`{"images": [${Array(65).fill('""').join(",")}, !!! not json`);
  assert.equal(statusOf(() => readJsonImages(body, 64)), 413);
  assert.equal(statusOf(() => readJsonImages(enc.encode('{"images": ["", !!!'), 64)), 400);
});

Deno.test("readJsonImages() reads images and names, skips other keys and validates them", () => {
  const doc = readJsonImages(
    enc.encode(
      '{"x": {"a": [1, -2.5e3, true, null, "s\\"q"]}, "images": ["aGk=", 3, "\\u0061"], "names": ["a", "b", "c"]}',
    ),
    64,
  );
  assert.deepEqual(doc.images, ["aGk=", undefined, "a"]);
  assert.deepEqual(doc.names, ["a", "b", "c"]);
  for (
    const bad of ['{"x": 01}', '{"x": [1,]}', '{"images": ["a"]} x', '{"x": "\u0001"}', "{", ""]
  ) {
    assert.equal(statusOf(() => readJsonImages(enc.encode(bad), 64)), 400, bad);
  }
  const many = `{"x": [${Array(MAX_OTHER_VALUES).fill(1).join(",")}], "images": ["aGk="]}`;
  assert.equal(statusOf(() => readJsonImages(enc.encode(many), 64)), 400, "values in other keys");
  const deep = "[".repeat(100) + "]".repeat(100);
  assert.equal(statusOf(() => readJsonImages(enc.encode(`{"x": ${deep}}`), 64)), 400);
});

function multipartBody(
  boundary: string,
  parts: { name?: string; filename?: string; body: string }[],
) {
  let s = "";
  for (const p of parts) {
    const file = p.filename === undefined ? "" : `; filename="${p.filename}"`;
    s += `--${boundary}\r\nContent-Disposition: form-data; name="${p.name ?? "image"}"${file}\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n${p.body}\r\n`;
  }
  return s;
}

Deno.test("readMultipart() refuses the first file part past the limit, before the body ends", () => {
  const type = "multipart/form-data; boundary=b0";
  const parts = Array.from({ length: 65 }, (_, i) => ({ filename: `${i}.png`, body: "x" }));
  // No closing boundary: a whole-body FormData parse answers 400; the reader stops at part 65.
  const body = enc.encode(multipartBody("b0", parts));
  assert.equal(statusOf(() => readMultipart(type, body, 64)), 413);
  assert.equal(statusOf(() => readMultipart(type, body, 100)), 400);
  const fields = Array.from({ length: MAX_FORM_FIELDS + 1 }, () => ({ name: "f", body: "1" }));
  const many = enc.encode(multipartBody("b0", fields));
  assert.equal(statusOf(() => readMultipart(type, many, 64)), 413);
});

Deno.test("readMultipart() reads what FormData serializes: names, binary bytes, text fields", async () => {
  const bytes = new Uint8Array([0, 13, 10, 45, 45, 255, 13, 10]);
  const form = new FormData();
  form.append("note", "text");
  form.append("image", new File([bytes], "a.png"));
  form.append("image", new File([new Uint8Array([7])], ""));
  const req = new Request("http://x/", { method: "POST", body: form });
  const body = new Uint8Array(await req.arrayBuffer());
  const parts = readMultipart(req.headers.get("content-type")!, body, 64);
  assert.deepEqual(parts.map((p) => p.name), ["a.png", "image"]);
  assert.deepEqual([...parts[0].bytes], [...bytes]);
  assert.deepEqual([...parts[1].bytes], [7]);
});

Deno.test("handler() answers a 6 MB JSON body of two million empty images 413 at once", async () => {
  const { app } = testApp();
  const body = `{"images": [${Array(2_000_000).fill('""').join(",")}]}`;
  const t0 = performance.now();
  const res = await app.handler(
    new Request(url("/v1/models/fake/score"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    }),
  );
  const ms = performance.now() - t0;
  assert.equal(res.status, 413);
  assert.match((await res.json()).error.message, /more than 64 images/);
  // JSON.parse + one object per entry took seconds here; reading stops at entry 65.
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
});
