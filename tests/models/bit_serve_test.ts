/**
 * The bundled tiny-BiT model end to end: a JPEG photo posted to the service is decoded,
 * pre-processed by the manifest (gray, area resize to 28×28, pad to 32×32, normalize, 3 planes)
 * and scored with S&I-A by the real engine, and the answer is an NDJSON line with the score, the
 * calibrated verdict and one layer value per inner split.
 */
import assert from "node:assert/strict";
import { Image } from "imagescript";
import { loadConfig } from "../../src/config.ts";
import { createApp } from "../../src/http/app.ts";
import { createRegistry } from "../helpers/registry.ts";
import { createLazyScorer } from "../../src/engine/engine.ts";

/** A 60×45 "photo": a bright blob on a darker gradient, with some texture, as JPEG. */
async function photoJpeg(): Promise<Uint8Array> {
  const img = new Image(60, 45);
  for (let y = 0; y < 45; y++) {
    for (let x = 0; x < 60; x++) {
      const blob = Math.hypot(x - 30, y - 22) < 14 ? 150 : 0;
      const v = Math.min(255, 20 + x + blob + ((x * 7 + y * 13) % 11));
      img.setPixelAt(x + 1, y + 1, Image.rgbaToColor(v, Math.max(0, v - 30), v, 255));
    }
  }
  return await img.encodeJPEG(90);
}

Deno.test("a JPEG photo posted to the bundled tiny-BiT model with method=si_a gets a scored line", async () => {
  const registry = await createRegistry("models", ["bit-tiny-fmnist"], {
    backend: "native",
    createScorer: createLazyScorer,
  });
  const app = createApp({ registry, config: loadConfig(() => undefined) });
  const jpeg = await photoJpeg();
  assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], "a JPEG file");
  const res = await app.handler(
    new Request("http://x/v1/models/bit-tiny-fmnist/score?method=si_a", {
      method: "POST",
      headers: { "content-type": "image/jpeg" },
      body: jpeg as Uint8Array<ArrayBuffer>,
    }),
  );
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /ndjson/);
  const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 2, JSON.stringify(lines));
  const [row, { summary }] = lines;
  assert.equal(row.method, "si_a");
  assert.ok(Number.isFinite(row.score) && row.score < 0, `score ${row.score}`);
  assert.ok(Number.isInteger(row.class) && row.class >= 0 && row.class < 10);
  assert.equal(typeof row.label, "string");
  assert.equal(
    row.layers.length,
    9,
    "one value per inner split (the last ten GroupNorms minus one)",
  );
  assert.equal(typeof row.ood, "boolean", "the bundled model is calibrated for si_a");
  assert.ok(row.p_value >= 0 && row.p_value <= 1);
  assert.equal(summary.scored, 1);
  assert.equal(summary.method, "si_a");
});
