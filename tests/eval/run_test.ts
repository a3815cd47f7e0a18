import assert from "node:assert/strict";
import { ScoreCache, settingsKey } from "../../src/eval/cache.ts";
import { scoreInputs } from "../../src/eval/run.ts";
import type { InputItem } from "../../src/inputs/mod.ts";
import { DEFAULT_SETTINGS } from "../../src/contract/scoring.ts";
import { createFakeModel } from "../helpers/fake_model.ts";

/** A 2×2 image whose red channel is `red` everywhere (the fake model scores red / 255). */
function solid(index: number, red: number, label?: number): InputItem {
  const data = new Uint8Array(16);
  for (let i = 0; i < 4; i++) data.set([red, 0, 0, 255], 4 * i);
  const item = { index, name: `img${index}`, image: { width: 2, height: 2, data } };
  return label === undefined ? item : { ...item, label };
}

const ITEMS = [0, 51, 102, 153, 255].map((red, i) => solid(i, red, i % 2));
const SI = DEFAULT_SETTINGS;

Deno.test("scoreInputs() scores in order, in batches, reporting progress", async () => {
  const model = createFakeModel();
  const progress: number[] = [];
  const out = await scoreInputs(model, ITEMS, SI, {
    batch: 2,
    onProgress: (n) => progress.push(n),
  });
  assert.deepEqual(model.batches.map((b) => b.size), [2, 2, 1]);
  assert.deepEqual(progress, [2, 4, 5]);
  // red/255 = 0, 0.2, 0.4, 0.6, 1 (in float32); class 1 from 0.5 up.
  [0, 0.2, 0.4, 0.6, 1].forEach((v, i) => assert.ok(Math.abs(out[i].score - v) < 1e-6));
  assert.deepEqual(out.map((o) => o.class), [0, 0, 0, 1, 1]);
  assert.deepEqual(out.map((o) => o.label), [0, 1, 0, 1, 0]);
  assert.deepEqual(out.map((o) => o.name), ["img0", "img1", "img2", "img3", "img4"]);
  assert.ok(out.every((o) => !o.cached));
});

Deno.test("scoreInputs() reuses cached scores across runs and settings they ignore", async () => {
  const root = await Deno.makeTempDir();
  const model = createFakeModel();
  const cache = await ScoreCache.open(root, model);
  await scoreInputs(model, ITEMS.slice(0, 3), SI, { cache, batch: 8 });
  assert.equal(model.batches.length, 1);

  // Reopened from disk: only the two new images are scored.
  const reopened = await ScoreCache.open(root, model);
  const out = await scoreInputs(model, ITEMS, SI, { cache: reopened, batch: 8 });
  assert.deepEqual(model.batches.map((b) => b.size), [3, 2]);
  assert.deepEqual(out.map((o) => o.cached), [true, true, true, false, false]);
  assert.ok(Math.abs(out[1].score - 0.2) < 1e-6);

  // Another α is another S&I result; MSP ignores α, so its second run is all hits.
  await scoreInputs(model, ITEMS, { ...SI, alpha: 0.01 }, { cache: reopened, batch: 8 });
  assert.equal(model.batches.at(-1)!.size, 5);
  const msp = { ...SI, method: "msp" as const };
  await scoreInputs(model, ITEMS, msp, { cache: reopened, batch: 8 });
  const before = model.batches.length;
  await scoreInputs(model, ITEMS, { ...msp, alpha: 0.5 }, { cache: reopened, batch: 8 });
  assert.equal(model.batches.length, before);

  // Same name, different pixels: rescored.
  await scoreInputs(model, [solid(0, 204)], SI, { cache: reopened });
  assert.equal(model.batches.length, before + 1);
  await Deno.remove(root, { recursive: true });
});

Deno.test("ScoreCache skips a torn last line", async () => {
  const root = await Deno.makeTempDir();
  const model = createFakeModel();
  const cache = await ScoreCache.open(root, model);
  await scoreInputs(model, ITEMS.slice(0, 2), SI, { cache });
  await Deno.writeTextFile(`${cache.dir}/${settingsKey(SI)}.ndjson`, '["img9|ab', { append: true });
  const out = await scoreInputs(model, ITEMS.slice(0, 2), SI, {
    cache: await ScoreCache.open(root, model),
  });
  assert.deepEqual(out.map((o) => o.cached), [true, true]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("settingsKey() keeps only what a method depends on", () => {
  assert.equal(settingsKey({ ...SI, method: "energy", alpha: 7 }), "energy");
  assert.equal(settingsKey({ ...SI, method: "gaia_z", iterations: 3 }), "gaia_z");
  assert.notEqual(settingsKey(SI), settingsKey({ ...SI, loss: "max" }));
  assert.equal(settingsKey({ ...SI, method: "gaia_a", iterations: 3 }), "gaia_a");
  const siA = { ...SI, method: "si_a" as const };
  assert.notEqual(settingsKey(siA), settingsKey({ ...siA, alpha: 0.01 }));
  assert.notEqual(settingsKey(siA), settingsKey(SI));
});
