import assert from "node:assert/strict";
import { join } from "node:path";
import {
  calibrateModel,
  formatJson,
  type NamedImage,
  saveCalibration,
  scoreImages,
} from "../../src/models/calibrate_run.ts";
import { loadModel } from "../../src/models/loader.ts";
import type { ScorerFactory } from "../../src/contract/scoring.ts";
import {
  DEFAULT_SETTINGS,
  type InputBatch,
  type ScoreSettings,
} from "../../src/contract/scoring.ts";
import { grayToImage } from "../../src/inputs/gray.ts";

/** Scores each image by the mean of its input tensor; records batch sizes. */
function meanScorer(batches: number[]): ScorerFactory {
  return () =>
    Promise.resolve({
      splits: () => [],
      score(batch: InputBatch, _s: ScoreSettings) {
        const [n] = batch.dims;
        batches.push(n);
        const per = batch.data.length / n;
        return Promise.resolve(Array.from({ length: n }, (_, i) => {
          let sum = 0;
          for (let k = 0; k < per; k++) sum += batch.data[i * per + k];
          return { score: sum / per, class: 0, confidence: 1 };
        }));
      },
    });
}

async function* grayImages(levels: number[]): AsyncIterable<NamedImage> {
  for (const [i, v] of levels.entries()) {
    yield { name: `img${i}`, image: grayToImage(new Uint8Array(28 * 28).fill(v), 28, 28) };
  }
}

async function withModelCopy(fn: (dir: string) => Promise<void>) {
  const root = await Deno.makeTempDir();
  try {
    const dir = join(root, "fmnist-wrn40");
    await Deno.mkdir(dir);
    await writeUncalibratedManifest(join(dir, "manifest.json"));
    await Deno.symlink(join(Deno.cwd(), "models/fmnist-wrn40/model.onnx"), join(dir, "model.onnx"));
    await fn(dir);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("scoreImages() batches, respects the limit and keeps input order", async () => {
  const batches: number[] = [];
  const model = await loadModel("models/fmnist-wrn40", {
    backend: "wasm",
    createScorer: meanScorer(batches),
  });
  const scores = await scoreImages(
    model,
    grayImages([0, 50, 100, 150, 200, 250]),
    DEFAULT_SETTINGS,
    {
      batch: 2,
      limit: 5,
    },
  );
  assert.deepEqual(batches, [2, 2, 1]);
  assert.equal(scores.length, 5);
  for (let i = 1; i < 5; i++) {
    assert.ok(scores[i] > scores[i - 1], "brighter images have larger means");
  }
});

Deno.test("calibrateModel() is deterministic and saveCalibration() upserts into the manifest", async () => {
  await withModelCopy(async (dir) => {
    const model = await loadModel(dir, { backend: "wasm", createScorer: meanScorer([]) });
    const levels = Array.from({ length: 40 }, (_, i) => (i * 37) % 256);
    const opts = { batch: 8, data: "levels", created: "2026-01-01T00:00:00Z" };
    const a = await calibrateModel(model, grayImages(levels), DEFAULT_SETTINGS, opts);
    const b = await calibrateModel(model, grayImages(levels), DEFAULT_SETTINGS, opts);
    assert.deepEqual(a, b);
    assert.equal(a.count, 40);
    await saveCalibration(dir, a);
    await saveCalibration(dir, { ...b, data: "again" });
    await saveCalibration(dir, {
      ...a,
      method: "msp",
      settings: { ...DEFAULT_SETTINGS, method: "msp" },
    });
    const reloaded = await loadModel(dir, { backend: "wasm", createScorer: meanScorer([]) });
    assert.deepEqual(reloaded.manifest.calibration.map((c) => [c.method, c.data]), [
      ["si", "again"],
      [
        "msp",
        "levels",
      ],
    ]);
    assert.equal(reloaded.calibrationFor(DEFAULT_SETTINGS)?.threshold, a.threshold);
    const raw = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
    assert.equal(raw.labels[0], "T-shirt/top", "other fields are kept");
  });
});

Deno.test("formatJson() keeps value arrays on one line and round-trips", () => {
  const v = { a: [1, 2.5, -3], b: { c: ["x", "y"], d: [{ e: 1 }] } };
  const text = formatJson(v);
  assert.deepEqual(JSON.parse(text), v);
  assert.ok(text.includes('"a": [1,2.5,-3]'), text);
  assert.ok(text.includes('"c": ["x","y"]'), text);
  assert.ok(text.endsWith("}\n"));
});

/** The bundled manifest without its calibrations, so tests start from a known state. */
async function writeUncalibratedManifest(path: string): Promise<void> {
  const manifest = JSON.parse(await Deno.readTextFile("models/fmnist-wrn40/manifest.json"));
  await Deno.writeTextFile(path, JSON.stringify({ ...manifest, calibration: [] }, null, 2));
}
