import assert from "node:assert/strict";
import {
  accuracy,
  auprIn,
  auprOut,
  auroc,
  averageMetrics,
  detectionError,
  fpr95Authors,
  fpr95OpenOOD,
  oodMetrics,
  rocCurve,
  roundHalfEven,
} from "../../src/eval/metrics.ts";

// A small case worked out by hand (see the comments for the arithmetic).
const ID = [0.9, 0.8, 0.4];
const OOD = [0.7, 0.4, 0.1];
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

Deno.test("auroc() counts ties as one half", () => {
  // Pairs id > ood: 0.9 → 3, 0.8 → 3, 0.4 → 1 (vs 0.1) + ½ (tie with 0.4) = 7.5 of 9.
  close(auroc(ID, OOD), 7.5 / 9);
  assert.equal(auroc([1, 1], [1]), 0.5);
  assert.equal(auroc([2, 3], [1]), 1);
  assert.equal(auroc([0], [1, 2]), 0);
});

Deno.test("auprIn() is sklearn's step-wise average precision with ID positive", () => {
  // Thresholds 0.9, 0.8: recall +1/3 each at precision 1; 0.4 (tie P+N): recall +1/3 at 3/5.
  close(auprIn(ID, OOD), 1 / 3 + 1 / 3 + (1 / 3) * (3 / 5));
});

Deno.test("auprOut() ranks OOD first by negated score", () => {
  // −0.1: R 1/3 P 1; −0.4 (tie P+N): R 2/3 P 2/3; −0.7: R 1 P 3/4.
  close(auprOut(ID, OOD), 1 / 3 + (1 / 3) * (2 / 3) + (1 / 3) * (3 / 4));
});

Deno.test("roundHalfEven() rounds like Python 3", () => {
  assert.equal(roundHalfEven(2.5), 2);
  assert.equal(roundHalfEven(3.5), 4);
  assert.equal(roundHalfEven(0.5), 0);
  assert.equal(roundHalfEven(2.4999), 2);
  assert.equal(roundHalfEven(0.05 * 30), 2); // 1.5000000000000002 in doubles
});

Deno.test("fpr95Authors() thresholds at the ID score of index round(0.05·n)", () => {
  // n = 3: index round(0.15) = 0, threshold 0.4, OOD strictly above: 0.7 only.
  close(fpr95Authors(ID, OOD), 1 / 3);
  // n = 50: index round(2.5) = 2 (half to even) → threshold 3; OOD above 3: only 3.5.
  const id50 = Array.from({ length: 50 }, (_, i) => i + 1);
  close(fpr95Authors(id50, [2.5, 3, 3.5]), 1 / 3);
});

Deno.test("fpr95OpenOOD() takes OOD as positive and differs from the authors' convention", () => {
  close(fpr95OpenOOD(ID, OOD), 1 / 3);
  // ID 1..20; 19 OOD below every ID score and one at 15.5.
  const id = Array.from({ length: 20 }, (_, i) => i + 1);
  const ood = [...Array.from({ length: 19 }, (_, i) => (i + 1) / 100), 15.5];
  // Authors: threshold = 2nd smallest ID (index round(1) = 1) = 2; OOD above 2: 1 of 20.
  close(fpr95Authors(id, ood), 1 / 20);
  // OpenOOD: the 19 low OOD scores alone catch 95 % of OOD with no ID flagged.
  assert.equal(fpr95OpenOOD(id, ood), 0);
});

Deno.test("fpr95OpenOOD() drops collinear ROC points like sklearn's drop_intermediate", () => {
  // Each threshold adds one ID and one OOD: points (1,1),(2,2),(3,3); the middle is dropped,
  // so the first point with TPR ≥ 0.5 is (3,3), FPR 1 (it would be 2/3 without dropping).
  assert.equal(fpr95OpenOOD([1, 2, 3], [1, 2, 3], 0.5), 1);
});

Deno.test("detectionError() is the best ½(1−TPR)+½FPR over ROC points", () => {
  // ROC (fpr,tpr): (0,0) (0,⅓) (0,⅔) (⅓,⅔) (⅔,1) (1,1) → errors ½ ⅓ ⅙ ⅓ ⅓ ½.
  close(detectionError(ID, OOD), 1 / 6);
  const roc = rocCurve(ID, OOD);
  assert.deepEqual(roc.fpr.map((v) => v * 3), [0, 0, 0, 1, 2, 3]);
  assert.deepEqual(roc.tpr.map((v) => v * 3), [0, 1, 2, 2, 3, 3]);
  assert.equal(detectionError([2, 3], [0, 1]), 0);
});

Deno.test("accuracy() ignores unlabelled images and is undefined without labels", () => {
  assert.equal(accuracy([1, 2, 3], [1, 0, undefined]), 0.5);
  assert.equal(accuracy([1, 2], [undefined, undefined]), undefined);
});

Deno.test("oodMetrics() rejects empty sets and NaN scores", () => {
  assert.throws(() => oodMetrics([], [1]), RangeError);
  assert.throws(() => oodMetrics([1], [NaN]), RangeError);
});

Deno.test("averageMetrics() averages every field", () => {
  const a = oodMetrics([2, 3], [0, 1]); // perfect separation
  const b = oodMetrics([0, 1], [2, 3]); // perfectly inverted
  const avg = averageMetrics([a, b]);
  assert.equal(avg.auroc, 0.5);
  assert.equal(avg.fpr95, 0.5);
  assert.equal(avg.detectionError, 0.25);
});
