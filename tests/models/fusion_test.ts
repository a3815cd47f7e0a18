import assert from "node:assert/strict";
import { fuse, fusedCalibration, NotCalibratedError, withFusion } from "../../src/models/fusion.ts";
import { fusionComponents } from "../../src/contract/fusion.ts";
import {
  buildFusedCalibration,
  leaveOneOutScores,
  thresholdSchemes,
} from "../../src/models/fusion_calibration.ts";
import { ManifestError, parseManifest } from "../../src/models/manifest.ts";
import type { Calibration } from "../../src/models/types.ts";
import type { ImageScore, InputBatch, Scorer, ScoreSettings } from "../../src/contract/scoring.ts";
import { DEFAULT_SETTINGS } from "../../src/contract/scoring.ts";

const bundled = JSON.parse(await Deno.readTextFile("models/fmnist-wrn40/manifest.json"));
const SI = [1, 2, 3, 4]; // n = 4: p-values step by 1/5
const ENERGY = [10, 20, 20, 30];
const dists = [
  { method: "si" as const, scores: SI, count: 4 },
  { method: "energy" as const, scores: ENERGY, count: 4 },
];

Deno.test("fuse() below all calibration scores gives 2·ln(1/(n+1)), never -Infinity", () => {
  const f = fuse(dists, [0, 5]);
  assert.deepEqual(f.components.map((c) => c.p_value), [1 / 5, 1 / 5]);
  assert.equal(f.score, 2 * Math.log(1 / 5));
  assert.ok(Number.isFinite(f.score));
});

Deno.test("fuse() at or above the largest calibration score gives p = 1 and score 0", () => {
  assert.equal(fuse(dists, [4, 30]).score, 0);
  assert.equal(fuse(dists, [99, 1e9]).score, 0);
});

Deno.test("fuse() counts tied calibration scores as at or below", () => {
  const f = fuse(dists, [2, 20]);
  // si: 1, 2 ≤ 2 → 3/5; energy: 10, 20, 20 ≤ 20 → 4/5.
  assert.deepEqual(f.components, [
    { method: "si", score: 2, p_value: 3 / 5 },
    { method: "energy", score: 20, p_value: 4 / 5 },
  ]);
  assert.ok(Math.abs(f.score - (Math.log(3 / 5) + Math.log(4 / 5))) < 1e-15);
});

Deno.test("leaveOneOutScores() counts each image against the other images only", () => {
  // Two components, three images. Image 0 (1, 30): si others [2, 3] → (0+1)/3; energy others
  // [10, 20] → (2+1)/3 = 1. Image 1 (2, 10): si others [1, 3] → 2/3; energy others [20, 30] → 1/3.
  // Image 2 (3, 20): si others [1, 2] → 1; energy others [10, 30] → 2/3.
  const rows = [[1, 30], [2, 10], [3, 20]];
  const got = leaveOneOutScores(rows, 2);
  const want = [Math.log(1 / 3), Math.log(2 / 3) + Math.log(1 / 3), Math.log(2 / 3)];
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-12, `image ${i}: ${g} vs ${want[i]}`));
});

Deno.test("buildFusedCalibration() stores both component distributions and a fused threshold", () => {
  const rows = Array.from({ length: 40 }, (_, i) => [i, (i * 7) % 40]);
  const c = buildFusedCalibration({
    settings: DEFAULT_SETTINGS,
    components: ["si", "energy"],
    rows,
    data: "d",
    created: "t",
  });
  assert.equal(c.method, "fused");
  assert.equal(c.settings.method, "fused");
  assert.deepEqual(c.components!.map((d) => [d.method, d.count, d.scores.length]), [
    ["si", 40, 40],
    ["energy", 40, 40],
  ]);
  assert.deepEqual(c.components![0].scores, Array.from({ length: 40 }, (_, i) => i));
  // 40 fused scores; the threshold is the ascending one at index round(0.05·40) = 2.
  assert.equal(c.count, 40);
  assert.equal(c.threshold, c.scores[2]);
  assert.ok(c.scores.every((s) => s <= 0));
  assert.ok(c.tpr >= 0.95);
  parseManifest({ ...bundled, calibration: [c] }, "m"); // the stored record is a valid manifest entry
});

Deno.test("thresholdSchemes(): the in-sample fit sits above the leave-one-out fit", () => {
  // In-sample, every image counts itself, so its p-values (and fused score) are biased upward.
  const rows = Array.from({ length: 200 }, (_, i) => [Math.sin(i * 1.3), Math.cos(i * 0.7)]);
  const t = thresholdSchemes(rows, 2);
  assert.ok(t.inSample > t.leaveOneOut, `${t.inSample} > ${t.leaveOneOut}`);
  assert.ok(Number.isFinite(t.halves));
});

Deno.test("a fused calibration without component distributions is a manifest error", () => {
  const si = bundled.calibration[0];
  const bad = { ...si, method: "fused", settings: { ...si.settings, method: "fused" } };
  assert.throws(
    () => parseManifest({ ...bundled, calibration: [bad] }, "m.json"),
    (e: unknown) =>
      e instanceof ManifestError &&
      /calibration\[0\]\.components: required for method "fused"/.test(e.message),
  );
});

Deno.test("fusionComponents() defaults to si (si_a for A-variant models) + energy, or the manifest's entry", () => {
  assert.deepEqual(fusionComponents(parseManifest(bundled, "m")), ["si", "energy"]);
  const custom = parseManifest({ ...bundled, fusion: { components: ["gaia_z", "energy"] } }, "m");
  assert.deepEqual(fusionComponents(custom), ["gaia_z", "energy"]);
  const aVariant = parseManifest({ ...bundled, defaults: { method: "si_a" } }, "m");
  assert.deepEqual(fusionComponents(aVariant), ["si_a", "energy"]);
  assert.throws(() =>
    parseManifest({ ...bundled, fusion: { components: ["msp", "energy"] } }, "m")
  );
});

/** A scorer whose S&I score is the first input value and energy the second; records settings. */
function twoValueScorer(seen: ScoreSettings[]): Scorer {
  return {
    splits: (s) => (s.method === "si" ? ["a", "b"] : []),
    score(batch: InputBatch, settings: ScoreSettings): Promise<ImageScore[]> {
      seen.push(settings);
      const n = batch.dims[0];
      return Promise.resolve(Array.from({ length: n }, (_, i) => ({
        score: batch.data[i * 2],
        class: 0,
        confidence: 1,
        layers: [1, 2],
        energy: batch.data[i * 2 + 1],
      })));
    },
  };
}

const fusedCal: Calibration = buildFusedCalibration({
  settings: DEFAULT_SETTINGS,
  components: ["si", "energy"],
  rows: SI.map((s, i) => [s, ENERGY[i]]),
  data: "d",
  created: "t",
});

Deno.test("withFusion() scores fused from ONE pass of the gradient method", async () => {
  const seen: ScoreSettings[] = [];
  const manifest = parseManifest({ ...bundled, calibration: [fusedCal] }, "m");
  const scorer = withFusion(twoValueScorer(seen), manifest, "m");
  const batch = { data: new Float32Array([2, 20, 0, 99]), dims: [2, 2, 1, 1] as const };
  const out = await scorer.score(
    { ...batch, dims: [2, 2, 1, 1] },
    { ...DEFAULT_SETTINGS, method: "fused" },
  );
  assert.deepEqual(seen.map((s) => s.method), ["si"]);
  assert.deepEqual(out[0].components, [
    { method: "si", score: 2, p_value: 3 / 5 },
    { method: "energy", score: 20, p_value: 4 / 5 },
  ]);
  assert.ok(Math.abs(out[0].score - Math.log(12 / 25)) < 1e-12);
  assert.equal(out[1].score, Math.log(1 / 5)); // si below all, energy above all
  assert.deepEqual(out[0].layers, [1, 2]);
  assert.deepEqual(scorer.splits({ ...DEFAULT_SETTINGS, method: "fused" }), ["a", "b"]);
});

Deno.test("withFusion() refuses fused on an old manifest without component distributions", async () => {
  const manifest = parseManifest(bundled, "m"); // has si and energy calibrations, but no fused one
  const old = {
    ...manifest,
    calibration: manifest.calibration.filter((c) => c.method !== "fused"),
  };
  const scorer = withFusion(twoValueScorer([]), old, "fmnist-wrn40");
  const batch = { data: new Float32Array([2, 20]), dims: [1, 2, 1, 1] as const };
  await assert.rejects(
    scorer.score({ ...batch, dims: [1, 2, 1, 1] }, { ...DEFAULT_SETTINGS, method: "fused" }),
    (e: unknown) =>
      e instanceof NotCalibratedError && /no "fused" calibration/.test(e.message) &&
      /deno task calibrate --method fused/.test(e.message),
  );
  // Other methods still pass through.
  const si = await scorer.score({ ...batch, dims: [1, 2, 1, 1] }, DEFAULT_SETTINGS);
  assert.equal(si[0].score, 2);
});

Deno.test("fusedCalibration() matches the S&I settings of the request", () => {
  const list = [fusedCal];
  assert.equal(fusedCalibration(list, { ...DEFAULT_SETTINGS, method: "fused" }, "m"), fusedCal);
  assert.throws(
    () => fusedCalibration(list, { ...DEFAULT_SETTINGS, method: "fused", alpha: 0.5 }, "m"),
    NotCalibratedError,
  );
});
