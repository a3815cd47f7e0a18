import assert from "node:assert/strict";
import {
  buildCalibration,
  findCalibration,
  pValue,
  quantiles,
  roundHalfEven,
  thresholdAt,
  upsertCalibration,
} from "../../src/models/calibration.ts";
import { DEFAULT_SETTINGS } from "../../src/contract/scoring.ts";

Deno.test("roundHalfEven() rounds halves like Python's round()", () => {
  assert.deepEqual([0.5, 1.5, 2.5, 2.4, 2.6, 100].map(roundHalfEven), [0, 2, 2, 2, 3, 100]);
});

Deno.test("thresholdAt() takes the ascending score at index round(0.05·n)", () => {
  const sorted = Array.from({ length: 2000 }, (_, i) => i / 10);
  assert.equal(thresholdAt(sorted), 10); // index 100
  const fifty = Array.from({ length: 50 }, (_, i) => i);
  assert.equal(thresholdAt(fifty), 2); // 2.5 rounds to 2
  assert.equal(thresholdAt([7]), 7);
});

Deno.test("buildCalibration() stores threshold, accepted share, count and all short score lists", () => {
  const scores = Array.from({ length: 40 }, (_, i) => -i); // shuffled order does not matter
  const c = buildCalibration({ settings: DEFAULT_SETTINGS, scores, data: "d", created: "t" });
  assert.equal(c.threshold, -37); // ascending: -39 … 0; index round(2.0) = 2
  assert.equal(c.tpr, 38 / 40);
  assert.equal(c.count, 40);
  assert.equal(c.scores.length, 40);
  assert.equal(c.scores[0], -39);
  assert.equal(c.method, "si");
});

Deno.test("buildCalibration() is deterministic regardless of input order", () => {
  const a = Array.from({ length: 3001 }, (_, i) => Math.sin(i) * 10);
  const b = [...a].reverse();
  const ca = buildCalibration({ settings: DEFAULT_SETTINGS, scores: a, data: "d", created: "t" });
  const cb = buildCalibration({ settings: DEFAULT_SETTINGS, scores: b, data: "d", created: "t" });
  assert.deepEqual(ca, cb);
  assert.equal(ca.scores.length, 1000);
});

Deno.test("buildCalibration() rejects empty and non-finite scores", () => {
  const base = { settings: DEFAULT_SETTINGS, data: "d", created: "t" };
  assert.throws(() => buildCalibration({ ...base, scores: [] }), /no ID scores/);
  assert.throws(() => buildCalibration({ ...base, scores: [1, NaN] }), /score 1 is NaN/);
});

Deno.test("quantiles() keeps min and max and evenly spaced order statistics", () => {
  const sorted = Array.from({ length: 10 }, (_, i) => i);
  assert.deepEqual(quantiles(sorted, 4), [0, 3, 6, 9]);
  assert.deepEqual(quantiles(sorted, 20), sorted);
});

Deno.test("pValue() is (calibration scores at or below + 1) / (n + 1)", () => {
  const sorted = [1, 2, 2, 3];
  assert.equal(pValue(sorted, 0), 1 / 5); // below all: 1/(n+1), never 0
  assert.equal(pValue(sorted, 1), 2 / 5);
  assert.equal(pValue(sorted, 2), 4 / 5); // ties count as at or below
  assert.equal(pValue(sorted, 2.5), 4 / 5);
  assert.equal(pValue(sorted, 3), 1); // at the largest
  assert.equal(pValue(sorted, 100), 1); // above all
  assert.ok(Number.isNaN(pValue([], 1)));
  assert.ok(Number.isNaN(pValue(sorted, NaN)));
});

Deno.test("findCalibration() matches method and the settings relevant to it", () => {
  const mk = (method: "si" | "si_a" | "msp", alpha: number) => ({
    ...buildCalibration({
      settings: { ...DEFAULT_SETTINGS, method, alpha },
      scores: [alpha],
      data: "d",
      created: "t",
    }),
  });
  const list = [mk("si", 0.001), mk("msp", 0.5)];
  assert.equal(findCalibration(list, DEFAULT_SETTINGS), list[0]);
  assert.equal(findCalibration(list, { ...DEFAULT_SETTINGS, alpha: 0.01 }), undefined);
  // MSP ignores alpha, so any alpha finds the MSP calibration.
  assert.equal(findCalibration(list, { ...DEFAULT_SETTINGS, method: "msp", alpha: 9 }), list[1]);
  assert.equal(findCalibration(list, { ...DEFAULT_SETTINGS, method: "energy" }), undefined);
  // S&I-A depends on α and T like S&I.
  const a = [mk("si_a", 0.001)];
  assert.equal(findCalibration(a, { ...DEFAULT_SETTINGS, method: "si_a" }), a[0]);
  assert.equal(
    findCalibration(a, { ...DEFAULT_SETTINGS, method: "si_a", iterations: 3 }),
    undefined,
  );
});

Deno.test("upsertCalibration() replaces the entry for the same method and settings", () => {
  const c1 = buildCalibration({ settings: DEFAULT_SETTINGS, scores: [1], data: "a", created: "t" });
  const c2 = buildCalibration({ settings: DEFAULT_SETTINGS, scores: [2], data: "b", created: "t" });
  const c3 = buildCalibration({
    settings: { ...DEFAULT_SETTINGS, iterations: 1 },
    scores: [3],
    data: "c",
    created: "t",
  });
  const list = upsertCalibration(upsertCalibration([c1], c3), c2);
  assert.deepEqual(list.map((c) => c.data), ["b", "c"]);
});
