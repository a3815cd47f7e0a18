import assert from "node:assert/strict";
import { auroc, fpr95Authors, fpr95OpenOOD } from "../../src/eval/metrics.ts";

// The fixture's reference scores (the authors' code) for fmnist_test (ID) and mnist (OOD).
const ref = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/wrn40-fmnist/reference.json", import.meta.url)),
) as { sets: Record<string, { scores: Record<string, number[]> }> };
const METHODS = ["si", "gaia_z", "msp", "energy"] as const;

/** AUROC by counting all ID/OOD pairs: a win counts 1, a tie ½. */
function aurocByPairs(id: number[], ood: number[]): number {
  let wins = 0;
  for (const a of id) for (const b of ood) wins += a > b ? 1 : a === b ? 0.5 : 0;
  return wins / (id.length * ood.length);
}

/**
 * Authors' FPR95 by direct counting: the threshold is the ID score v with at most k ID scores
 * below it and more than k at or below it (k = 10 for n = 200: round(0.05·200)); FPR = OOD > v.
 */
function fprByCounting(id: number[], ood: number[], k: number): number {
  const v = id.find((c) => {
    const below = id.filter((s) => s < c).length;
    return below <= k && id.filter((s) => s <= c).length > k;
  })!;
  return ood.filter((s) => s > v).length / ood.length;
}

/** OpenOOD's FPR95 by counting: the largest threshold t catching ≥ 95 % of OOD (score ≤ t). */
function openOodByCounting(id: number[], ood: number[]): number {
  const candidates = [...new Set(ood)].sort((a, b) => a - b);
  const t = candidates.find((c) => ood.filter((s) => s <= c).length >= 0.95 * ood.length)!;
  return id.filter((s) => s <= t).length / id.length;
}

for (const method of METHODS) {
  Deno.test(`metrics of ${method} on the fixture agree with brute-force counting`, () => {
    const id = ref.sets.fmnist_test.scores[method];
    const ood = ref.sets.mnist.scores[method];
    assert.equal(id.length, 200);
    assert.equal(ood.length, 200);
    assert.ok(Math.abs(auroc(id, ood) - aurocByPairs(id, ood)) < 1e-12);
    assert.equal(fpr95Authors(id, ood), fprByCounting(id, ood, 10));
    assert.equal(fpr95OpenOOD(id, ood), openOodByCounting(id, ood));
    // The detectors do separate the sets on this model (reference README: AUROC 84–98 %).
    assert.ok(auroc(id, ood) > 0.75, `${method} AUROC ${auroc(id, ood)}`);
  });
}
