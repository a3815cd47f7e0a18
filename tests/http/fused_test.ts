import assert from "node:assert/strict";
import { withFusion } from "../../src/models/fusion.ts";
import { buildFusedCalibration } from "../../src/models/fusion_calibration.ts";
import type { Manifest } from "../../src/models/manifest.ts";
import type { Scorer } from "../../src/contract/scoring.ts";
import { DEFAULT_SETTINGS } from "../../src/contract/scoring.ts";
import { createFakeModel } from "../helpers/fake_model.ts";
import { solidPng } from "./png.ts";
import { ndjson, testApp, url } from "./setup.ts";

const near = (a: unknown, b: number) =>
  assert.ok(Math.abs((a as number) - b) < 1e-6, `${a} ≈ ${b}`);

function post(path: string, body: BodyInit): Request {
  return new Request(url(path), { method: "POST", body });
}

Deno.test("handler() refuses method=fused with 409 not_calibrated when the model lacks it", async () => {
  const { app, model } = testApp();
  const res = await app.handler(post("/v1/models/fake/score?method=fused", await solidPng(1)));
  assert.equal(res.status, 409);
  const { error } = await res.json();
  assert.equal(error.code, "not_calibrated");
  assert.match(error.message, /no "fused" calibration.*deno task calibrate --method fused/);
  assert.equal(model.batches.length, 0);
});

Deno.test("handler() streams fused lines with each component's score and p-value", async () => {
  // Calibration: S&I scores 0.1 … 0.9, energies 1 … 9 (the fake's energy is 10 × its score).
  const rows = Array.from({ length: 9 }, (_, i) => [(i + 1) / 10, i + 1]);
  const cal = buildFusedCalibration({
    settings: DEFAULT_SETTINGS,
    components: ["si", "energy"],
    rows,
    data: "fake",
    created: "t",
  });
  const fake = createFakeModel({ calibration: cal });
  const inner: Scorer = {
    splits: fake.scorer.splits,
    score: async (b, s) =>
      (await fake.scorer.score(b, s)).map((r) => ({ ...r, energy: r.score * 10 })),
  };
  const manifest = { calibration: [cal], defaults: DEFAULT_SETTINGS } as unknown as Manifest;
  const model = { ...fake, scorer: withFusion(inner, manifest, "fake") };
  const { app } = testApp({}, { models: [model] });
  const res = await app.handler(post("/v1/models/fake/score?method=fused", await solidPng(102)));
  assert.equal(res.status, 200);
  const [line, last] = await ndjson(res);
  // red 102 → S&I 0.4, energy 4: 4 of 9 calibration values at or below each → p = 5/10.
  const comps = line.components as { method: string; score: number; p_value: number }[];
  assert.deepEqual(comps.map((c) => c.method), ["si", "energy"]);
  near(comps[0].score, 0.4);
  near(comps[1].score, 4);
  near(comps[0].p_value, 0.5);
  near(comps[1].p_value, 0.5);
  near(line.score, 2 * Math.log(0.5));
  assert.equal(line.method, "fused");
  assert.equal(line.threshold, cal.threshold);
  assert.equal(line.ood, (line.score as number) < cal.threshold);
  assert.equal(fake.batches[0].settings.method, "si"); // one S&I pass, no energy pass
  assert.equal((last.summary as { calibrated: boolean }).calibrated, true);
});
