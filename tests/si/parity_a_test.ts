/**
 * Parity with the authors' ImageNet/BiT code (S&I-A, GAIA-A, S&I-Z over the last ten
 * normalizations, energy, MSP) on the tiny-BiT fixture: 450 real images through the bundled
 * model's manifest-driven pre-processing and the engine, one run per method, native backend.
 *
 * Every score of every image must agree within 1e-3·|ref| + 1e-6. The forward pass of model.onnx
 * reproduces the reference logits once onnxruntime's Pad→MaxPool fusion is kept out (see
 * src/runtime/optimization.ts); with it, the root's zero padding became −∞ padding and the
 * Fashion-MNIST and noise scores moved (S&I-A by up to 2.6e-2 relative).
 */
import assert from "node:assert/strict";
import { auroc, fpr95Authors } from "../../src/eval/metrics.ts";
import { grayToImage } from "../../src/inputs/gray.ts";
import { loadModel } from "../../src/models/loader.ts";
import { createScorer } from "../../src/engine/engine.ts";
import type { Method } from "../../src/contract/scoring.ts";

const FIXTURE = new URL("../fixtures/bit-tiny-fmnist/", import.meta.url);
const reference = JSON.parse(await Deno.readTextFile(new URL("reference.json", FIXTURE)));
const SETS = ["id-fmnist", "ood-mnist", "ood-noise"] as const;
type SetName = typeof SETS[number];
/** Our method → the reference's key (`si` over the last ten normalizations is `si_z` there). */
const METHODS: [Method, string][] = [
  ["si_a", "si_a"],
  ["gaia_a", "gaia_a"],
  ["si", "si_z"],
  ["energy", "energy"],
  ["msp", "msp"],
];
const model = await loadModel(new URL("../../models/bit-tiny-fmnist", import.meta.url).pathname, {
  backend: "native",
  createScorer,
});

/** All 450 images, pre-processed once: [set, first index, count]. */
const [c, h, w] = model.inputDims;
const per = c * h * w;
const ranges: [SetName, number, number][] = [];
const planes: Float32Array[] = [];
for (const set of SETS) {
  const u8 = await Deno.readFile(new URL(`${set}.u8`, FIXTURE));
  const count = u8.length / 784;
  ranges.push([set, planes.length, count]);
  for (let i = 0; i < count; i++) {
    planes.push(model.preprocess(grayToImage(u8.subarray(i * 784, (i + 1) * 784), 28, 28)));
  }
}
const data = new Float32Array(planes.length * per);
planes.forEach((p, i) => data.set(p, i * per));

const ours: Record<string, Record<string, number[]>> = {};

for (const [method, key] of METHODS) {
  Deno.test(`engine matches the authors' ${key} scores on the tiny-BiT fixture`, async () => {
    const settings = { ...model.defaults, method };
    const all = await model.scorer.score({ data, dims: [planes.length, c, h, w] }, settings);
    for (const [set, start, count] of ranges) {
      const expected: number[] = reference.sets[set][key];
      const got = all.slice(start, start + count).map((r) => r.score);
      assert.equal(got.length, expected.length);
      let worst = 0, at = -1;
      got.forEach((g, i) => {
        const rel = Math.abs(g - expected[i]) / (1e-3 * Math.abs(expected[i]) + 1e-6);
        if (rel > worst) [worst, at] = [rel, i];
      });
      const worstRel = Math.max(
        ...got.map((g, i) => Math.abs(g - expected[i]) / Math.abs(expected[i])),
      );
      console.log(
        `${key} ${set}: worst error ${worst.toFixed(3)}× the tolerance, ` +
          `worst relative error ${worstRel.toExponential(2)}`,
      );
      (ours[key] ??= {})[set] = got;
      assert.ok(worst <= 1, `${key} on ${set}: image ${at} differs by ${worst}× 1e-3·|ref|+1e-6`);
    }
  });
}

Deno.test("FPR95 and AUROC on the tiny-BiT fixture equal the reference's", () => {
  for (const [, key] of METHODS) {
    const mine = ours[key];
    assert.ok(mine, `${key} was not scored`);
    for (const ood of ["ood-mnist", "ood-noise"] as const) {
      const ref = reference.metrics[key][ood];
      const fpr = fpr95Authors(mine["id-fmnist"], mine[ood]);
      const area = auroc(mine["id-fmnist"], mine[ood]);
      console.log(
        `${key} vs ${ood}: FPR95 ${(100 * fpr).toFixed(2)} (ref ${
          (100 * ref.fpr95).toFixed(2)
        }), ` +
          `AUROC ${(100 * area).toFixed(2)} (ref ${(100 * ref.auroc).toFixed(2)})`,
      );
      // Scores within 1e-3·|ref|: one ID image may cross the threshold, a few pairs may swap.
      const fprTol = 0.005, aucTol = 1e-3;
      assert.ok(Math.abs(fpr - ref.fpr95) <= fprTol, `${key} FPR95 ${fpr} vs ${ref.fpr95}`);
      assert.ok(Math.abs(area - ref.auroc) <= aucTol, `${key} AUROC ${area} vs ${ref.auroc}`);
    }
  }
});

Deno.test("fused on the tiny BiT combines si_a and energy from one pass", async () => {
  const settings = { ...model.defaults, method: "fused" as const };
  const cal = model.calibrationFor(settings);
  assert.deepEqual(cal?.components?.map((c) => c.method), ["si_a", "energy"]);
  const [c, h, w] = model.inputDims;
  const u8 = await Deno.readFile(new URL("ood-mnist.u8", FIXTURE));
  const n = 8;
  const data = new Float32Array(n * c * h * w);
  for (let i = 0; i < n; i++) {
    data.set(
      model.preprocess(grayToImage(u8.subarray(i * 784, (i + 1) * 784), 28, 28)),
      i * c * h * w,
    );
  }
  const batch = { data, dims: [n, c, h, w] as [number, number, number, number] };
  const siA = await model.scorer.score(batch, { ...model.defaults, method: "si_a" });
  const energy = await model.scorer.score(batch, { ...model.defaults, method: "energy" });
  const fused = await model.scorer.score(batch, settings);
  fused.forEach((f, i) => {
    assert.equal(f.components![0].score, siA[i].score, `image ${i}: same S&I-A graph`);
    assert.ok(Math.abs(f.components![1].score - energy[i].score) < 1e-5, `image ${i} energy`);
    const p = cal!.components!.map((d, j) =>
      (d.scores.filter((v) => v <= f.components![j].score).length + 1) / (d.scores.length + 1)
    );
    assert.deepEqual(f.components!.map((x) => x.p_value), p);
    assert.ok(Math.abs(f.score - Math.log(p[0]) - Math.log(p[1])) < 1e-12);
  });
});
