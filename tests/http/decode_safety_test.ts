import assert from "node:assert/strict";
import { Image } from "imagescript";
import { gifFrameBomb, tiffWidthBypass } from "../image/bombs.ts";
import { DEFAULT_CONFIG } from "../../src/config.ts";
import { createPreprocessor } from "../../src/image/preprocess.ts";
import { multipart, ndjson, testApp, url } from "./setup.ts";

const MiB = 2 ** 20;

function score(body: BodyInit, headers: Record<string, string> = {}, query = ""): Request {
  return new Request(url(`/v1/models/fake/score${query}`), { method: "POST", body, headers });
}

Deno.test("handler() refuses both decompression bombs fast without RSS growth", async () => {
  const { app } = testApp();
  const cases = [
    { bytes: gifFrameBomb(), name: "bomb.gif", type: "image/gif", status: 413 },
    { bytes: tiffWidthBypass(), name: "bypass.tif", type: "image/tiff", status: 422 },
  ];
  for (const c of cases) {
    const rss0 = Deno.memoryUsage().rss;
    const t0 = performance.now();
    const body = c.bytes as Uint8Array<ArrayBuffer>;
    const res = await app.handler(score(body, { "content-type": c.type }, `?name=${c.name}`));
    const { error } = await res.json();
    const seconds = (performance.now() - t0) / 1000;
    const grewMiB = (Deno.memoryUsage().rss - rss0) / MiB;
    assert.equal(res.status, c.status, `${c.name}: ${error.message}`);
    assert.match(error.message, new RegExp(`^Cannot decode image "${c.name}"`));
    assert.ok(seconds < 0.5, `${c.name} took ${seconds} s`);
    assert.ok(grewMiB < 100, `${c.name}: RSS grew ${grewMiB} MiB`);
  }
});

Deno.test("handler() answers /healthz under 200 ms while a 16-PNG request decodes and pre-processes", async () => {
  const black = new Image(4096, 4096);
  black.fill(0x000000ff);
  const png = await black.encode(1);
  // The real model's manifest-driven pre-processing (area resize of all 16.7 M pixels), which the
  // app runs in the decode worker next to the decoder; the fake scorer stands in for the model.
  const manifest = JSON.parse(await Deno.readTextFile("models/fmnist-wrn40/manifest.json"));
  const decodeWorkers = DEFAULT_CONFIG.decodeWorkers; // the service default: one per core
  const { app, model } = testApp({ decodeWorkers }, { model: { inputDims: [3, 32, 32] } });
  model.preprocess = createPreprocessor(manifest.preprocess, manifest.input);
  // Warm the decode workers so the measured window is decoding, not worker start-up.
  await (await app.handler(score(png as Uint8Array<ArrayBuffer>, { "content-type": "image/png" })))
    .text();

  const files = Array.from({ length: 16 }, (_, k) => ({ name: `black${k}.png`, bytes: png }));
  const scoring = app.handler(score(multipart(files))).then(ndjson);
  let done = false;
  scoring.finally(() => done = true);
  const latencies: number[] = [];
  while (!done) {
    const t0 = performance.now();
    const res = await app.handler(new Request(url("/healthz")));
    assert.equal(res.status, 200);
    await res.body?.cancel();
    // Timer-driven, like a health checker: a blocked event loop delays this wake-up too.
    await new Promise((r) => setTimeout(r, 20));
    latencies.push(performance.now() - t0 - 20);
  }
  const lines = await scoring;
  assert.equal(lines.filter((l) => "score" in l).length, 16, JSON.stringify(lines.slice(0, 2)));
  // The request must have lasted long enough for the probe to mean something.
  assert.ok(latencies.length >= 10, `only ${latencies.length} health checks ran`);
  // Decoding on the HTTP thread delayed one probe for the whole request (22.6 s measured). Here
  // every probe must be under 200 ms, except that 1 % may be late (never past 1 s): on the shared
  // 2-core development machine (load average 10–16) the OS alone delayed single probes 150–250 ms.
  const sorted = [...latencies].sort((a, b) => a - b);
  const p99 = sorted[Math.floor(sorted.length * 0.99)];
  const worst = sorted[sorted.length - 1];
  const late = sorted.filter((ms) => ms >= 200).length;
  assert.ok(p99 < 200 && worst < 1000, `p99 ${p99.toFixed(0)} ms, worst ${worst.toFixed(0)} ms`);
  assert.ok(
    late <= Math.max(1, sorted.length / 100),
    `${late} of ${sorted.length} probes ≥ 200 ms`,
  );
});
