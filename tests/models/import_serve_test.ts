/**
 * Bring-your-own-model end to end: `deno task import` turns the fixture's folded export into a
 * model directory (manifest drafted, graph compiled and checked, calibration run), and the
 * service then serves it next to the bundled model, scoring with the real engine.
 */
import assert from "node:assert/strict";
import { Image } from "imagescript";
import { join } from "node:path";
import { main as importModel } from "../../src/cli/import.ts";
import { loadConfig } from "../../src/config.ts";
import { createApp } from "../../src/http/app.ts";
import { createRegistry } from "../helpers/registry.ts";
import { createLazyScorer } from "../../src/engine/engine.ts";

const ID = "u8:tests/fixtures/wrn40-fmnist/id-fmnist.u8:28x28";

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const [log, error] = [console.log, console.error];
  const write = Deno.stderr.writeSync;
  console.log = console.error = () => {};
  Deno.stderr.writeSync = (b: Uint8Array) => b.length;
  try {
    return await fn();
  } finally {
    [console.log, console.error] = [log, error];
    Deno.stderr.writeSync = write;
  }
}

Deno.test("an imported folded model is served next to the bundled model", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.symlink(join(Deno.cwd(), "models/fmnist-wrn40"), join(root, "fmnist-wrn40"));
    const code = await quietly(() =>
      importModel([
        "tests/fixtures/wrn40-fmnist/model.folded.onnx",
        "--name",
        "wrn40-folded",
        "--models-dir",
        root,
        "--pad",
        "2",
        "--mean",
        "0.2860",
        "--std",
        "0.3530",
        "--id",
        `${ID}[0:16]`,
        "--method",
        "msp",
        "--backend",
        "native",
      ], createLazyScorer)
    );
    assert.equal(code, 0);
    const registry = await createRegistry(root, ["fmnist-wrn40", "wrn40-folded"], {
      backend: "native",
      createScorer: createLazyScorer,
    });
    assert.deepEqual(registry.list().map((m) => m.id), ["fmnist-wrn40", "wrn40-folded"]);
    const app = createApp({ registry, config: loadConfig(() => undefined) });
    const u8 = await Deno.readFile("tests/fixtures/wrn40-fmnist/id-fmnist.u8");
    const images: string[] = [];
    for (const i of [0, 1]) images.push(await pngBase64(u8.subarray(i * 784, (i + 1) * 784)));
    const scores: Record<string, number[]> = {};
    for (const id of ["fmnist-wrn40", "wrn40-folded"]) {
      const res = await app.handler(
        new Request(`http://x/v1/models/${id}/score?method=msp`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ images }),
        }),
      );
      assert.equal(res.status, 200);
      const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
      const rows = lines.filter((l) => "score" in l);
      assert.equal(rows.length, 2);
      if (id === "wrn40-folded") {
        for (const r of rows) {
          assert.equal(typeof r.threshold, "number", "the import calibrated msp");
        }
      }
      scores[id] = rows.map((r) => r.score);
    }
    // Folding BatchNorm changes no prediction: both models give the same MSP up to float error.
    scores["fmnist-wrn40"].forEach((s, i) =>
      assert.ok(Math.abs(s - scores["wrn40-folded"][i]) < 1e-4)
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

async function pngBase64(plane: Uint8Array): Promise<string> {
  const png = new Image(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = plane[i];
    png.bitmap.set([v, v, v, 255], i * 4);
  }
  return btoa(String.fromCharCode(...await png.encode()));
}
