import assert from "node:assert/strict";
import { ScoreCache } from "../../src/eval/cache.ts";
import { scoreFusedInputs } from "../../src/eval/run.ts";
import { NotCalibratedError } from "../../src/models/fusion.ts";
import { buildFusedCalibration } from "../../src/models/fusion_calibration.ts";
import { DEFAULT_SETTINGS } from "../../src/contract/scoring.ts";
import { createFakeModel } from "../helpers/fake_model.ts";

/** A 2×2 image whose red channel is `red` everywhere (the fake model scores red / 255). */
function solid(index: number, red: number) {
  const data = new Uint8Array(16);
  for (let i = 0; i < 4; i++) data.set([red, 0, 0, 255], 4 * i);
  return { index, name: `img${index}`, image: { width: 2, height: 2, data } };
}

const FUSED = { ...DEFAULT_SETTINGS, method: "fused" as const };
// Both components' calibration values are 0.1 … 0.9 (the fake scores every method alike).
const cal = buildFusedCalibration({
  settings: DEFAULT_SETTINGS,
  components: ["si", "energy"],
  rows: Array.from({ length: 9 }, (_, i) => [(i + 1) / 10, (i + 1) / 10]),
  data: "fake",
  created: "t",
});

Deno.test("scoreFusedInputs() combines cached component scores, scoring each once", async () => {
  const model = createFakeModel({ calibration: cal });
  const cache = await ScoreCache.open(await Deno.makeTempDir(), model);
  const items = [solid(0, 0), solid(1, 102), solid(2, 255)];
  const out = await scoreFusedInputs(model, items, FUSED, { cache, batch: 8 });
  assert.deepEqual(model.batches.map((b) => b.settings.method), ["si", "energy"]);
  // 0 is below all 9 values: p = 1/10 twice; 0.4 has 4 at or below: 5/10; 1 is above all: 1.
  const want = [2 * Math.log(0.1), 2 * Math.log(0.5), 0];
  out.forEach((o, i) => assert.ok(Math.abs(o.score - want[i]) < 1e-6, `${o.score} vs ${want[i]}`));
  assert.ok(out.every((o) => !o.cached));
  const again = await scoreFusedInputs(model, items, FUSED, { cache, batch: 8 });
  assert.equal(model.batches.length, 2);
  assert.ok(again.every((o) => o.cached));
  assert.deepEqual(again.map((o) => o.score), out.map((o) => o.score));
});

Deno.test("scoreFusedInputs() names the missing fused calibration", async () => {
  await assert.rejects(
    scoreFusedInputs(createFakeModel(), [solid(0, 1)], FUSED),
    NotCalibratedError,
  );
});
