import assert from "node:assert/strict";
import { createUploadGate, type Rejection } from "../../client/examples/upload_gate.ts";
import { solidPng } from "../http/png.ts";
import { createTestApp, type TestApp } from "./app_helper.ts";

// The fake model flags an image OOD when red / 255 < 0.2: red 153 passes, red 0 does not.

function upload(images: [string, Uint8Array][]): Request {
  const form = new FormData();
  for (const [name, bytes] of images) {
    form.append("file", new File([bytes.slice()], name, { type: "image/png" }));
  }
  return new Request("http://edge.test/upload", { method: "POST", body: form });
}

function gateFor(t: TestApp, accepted: string[][]) {
  return createUploadGate({
    serviceUrl: "http://ood.test",
    model: "fake",
    fetch: t.fetch,
    accept: (files) => {
      accepted.push(files.map((f) => f.name));
      return Promise.resolve(new Response("stored", { status: 201 }));
    },
  });
}

Deno.test("createUploadGate() forwards uploads the model was trained for", async () => {
  const accepted: string[][] = [];
  const gate = gateFor(createTestApp(), accepted);
  const res = await gate(
    await upload([["a.png", await solidPng(153)], ["b.png", await solidPng(204)]]),
  );
  assert.equal(res.status, 201);
  assert.deepEqual(accepted, [["a.png", "b.png"]]);
});

Deno.test("createUploadGate() rejects an upload containing an OOD image", async () => {
  const accepted: string[][] = [];
  const gate = gateFor(createTestApp(), accepted);
  const res = await gate(
    await upload([["ok.png", await solidPng(153)], ["dark.png", await solidPng(0)]]),
  );
  assert.equal(res.status, 422);
  const { rejected } = await res.json() as { rejected: Rejection };
  assert.equal(rejected.name, "dark.png");
  assert.equal(rejected.score, 0);
  assert.equal(rejected.threshold, 0.2);
  assert.deepEqual(accepted, []);
});

Deno.test("createUploadGate() fails closed when the service is overloaded", async () => {
  const accepted: string[][] = [];
  // 4 s per image before any measurement; a held single image fills the 2-slot queue's first slot.
  const t = createTestApp({ queueMaxImages: 2, queuePriorMsPerImage: 4000 });
  const release = t.model.hold();
  const busy = t.fetch(
    new Request("http://ood.test/v1/models/fake/score", {
      method: "POST",
      body: await solidPng(1),
    }),
  );
  await t.model.started(1);
  const res = await gateFor(t, accepted)(
    await upload([["a.png", await solidPng(153)], ["b.png", await solidPng(153)]]),
  );
  assert.equal(res.status, 503);
  // Room for two images once the running one finishes: after 4 s.
  assert.equal(res.headers.get("retry-after"), "4");
  assert.deepEqual(accepted, []);
  release();
  await (await busy).text();
});
