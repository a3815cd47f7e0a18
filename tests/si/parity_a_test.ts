/**
 * Parity with the authors' ImageNet/BiT code (S&I-A, GAIA-A, S&I-Z over the last ten
 * normalizations, energy, MSP) on the tiny-BiT fixture: 450 real images through the bundled
 * model's manifest-driven pre-processing and the engine, one run per method, native backend.
 *
 * What the fixture allows (measured, see tests/fixtures/bit-tiny-fmnist/README.md and the note in
 * docs/architecture.md): on the 200 MNIST digits the plain forward pass of model.onnx reproduces
 * the reference logits to 1.1e-6, and there every score must agree within 1e-3·|ref| + 1e-6. On
 * the Fashion-MNIST and noise images the reference logits themselves differ from model.onnx's
 * (max logit up to 4.8e-4 and 2.5e-3 relative; onnxruntime native and wasm agree with each other
 * to 1.2e-6, and every Conv/InstanceNormalization/MaxPool/Pad/pool output checks against float64
 * to 1e-6), and the gradient-value scores amplify that difference (S&I-A 10–20×). There the
 * test holds those scores to bounds from the measured discrepancy (LOOSE), and the metrics to
 * the reference's.
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
/**
 * Relative-error bounds where the reference's forward pass differs from model.onnx's: 1.5× the
 * measured worst case on this fixture (native backend). Everything else — every method on MNIST,
 * GAIA-A, S&I-Z, energy and MSP on Fashion-MNIST — must meet the 1e-3·|ref| + 1e-6 tolerance.
 */
const LOOSE: Record<string, Partial<Record<SetName, number>>> = {
  si_a: { "id-fmnist": 1.2e-2, "ood-noise": 4e-2 }, // measured 8.1e-3, 2.6e-2
  gaia_a: { "ood-noise": 7e-2 }, // 4.6e-2 (values ~5e-5: 5e-6 absolute)
  si_z: { "ood-noise": 1.7e-3 }, // 1.1e-3
  energy: { "ood-noise": 2.4e-3 }, // 1.6e-3
  msp: { "ood-noise": 9e-3 }, // 5.8e-3
};

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
      const bound = LOOSE[key][set];
      if (bound === undefined) {
        assert.ok(worst <= 1, `${key} on ${set}: image ${at} differs by ${worst}× 1e-3·|ref|+1e-6`);
      } else assert.ok(worstRel <= bound, `${key} on ${set}: ${worstRel} > ${bound}`);
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
      // Against MNIST (same forward pass): one ID image may cross the threshold, a few pairs swap.
      // Against noise the reference's forward pass differs (see the module note): two of the 50
      // noise images may cross the ID threshold.
      const fprTol = ood === "ood-mnist" ? 0.005 : 0.041;
      const aucTol = ood === "ood-mnist" ? 1e-3 : 6e-3;
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
