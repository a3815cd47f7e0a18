import assert from "node:assert/strict";
import {
  alphaIsGraphInput,
  isAMethod,
  isForwardMethod,
  isFusedMethod,
  isGradientMethod,
  isIterative,
  methodList,
  splitRule,
} from "../../src/contract/methods.ts";
import {
  DEFAULT_SETTINGS,
  METHODS,
  SPLIT_POLICIES,
  type SplitPolicy,
  type SplitPolicyName,
} from "../../src/contract/scoring.ts";
import { NAMED_SPLIT_POLICIES, usageLine } from "../../src/cli/args.ts";

const which = (test: (m: (typeof METHODS)[number]) => boolean) => METHODS.filter(test);

Deno.test("method checks read the method table: kinds as docs/method.md defines them", () => {
  assert.deepEqual(which(isGradientMethod), ["si", "si_a", "gaia_z", "gaia_a"]);
  assert.deepEqual(which(isAMethod), ["si_a", "gaia_a"]);
  assert.deepEqual(which(isForwardMethod), ["msp", "maxlogit", "energy", "gradnorm"]);
  assert.deepEqual(which(isFusedMethod), ["fused"]);
  assert.deepEqual(which(isIterative), ["si", "si_a"]);
});

Deno.test("alphaIsGraphInput() holds for S&I-Z and S&I-A with T ≥ 2 only", () => {
  const withAlpha = which((method) => alphaIsGraphInput({ ...DEFAULT_SETTINGS, method }));
  assert.deepEqual(withAlpha, ["si", "si_a"]);
  assert.equal(alphaIsGraphInput({ ...DEFAULT_SETTINGS, method: "si", iterations: 1 }), false);
});

Deno.test("splitRule() gives each method the splits the engine resolved before the table", () => {
  assert.deepEqual(METHODS.map((m) => [m, splitRule(m)]), [
    ["si", "policy"],
    ["si_a", "a-variant"],
    ["gaia_z", "normalization"],
    ["gaia_a", "a-variant"],
    ["msp", "none"],
    ["maxlogit", "none"],
    ["energy", "none"],
    ["gradnorm", "none"],
    ["fused", "component"],
  ]);
});

Deno.test("usage texts list the methods and split policies of the tables, wrapped at 100", () => {
  assert.equal(
    methodList({ notes: true }),
    "si, si_a, gaia_z, gaia_a, msp, maxlogit, energy, gradnorm, " +
      "fused (S&I + energy p-values; needs a fused calibration)",
  );
  assert.deepEqual(NAMED_SPLIT_POLICIES, [
    "normalization",
    "normalization+pool",
    "last-normalization",
  ]);
  assert.equal(SPLIT_POLICIES.length, 4);
  const text = usageLine(
    "--method <m>",
    `default from the manifest; ${methodList({ notes: true })}`,
  );
  assert.deepEqual(text.split("\n"), [
    "  --method <m>          default from the manifest; si, si_a, gaia_z, gaia_a, msp, maxlogit, energy,",
    "                        gradnorm, fused (S&I + energy p-values; needs a fused calibration)",
  ]);
});

/** True exactly when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;

Deno.test("SPLIT_POLICIES names every SplitPolicy kind and nothing else", () => {
  // Type-checks only while the list and the policy shapes agree.
  const agree: Equal<SplitPolicy["kind"], SplitPolicyName> = true;
  assert.ok(agree);
  assert.deepEqual(new Set(SPLIT_POLICIES).size, 4);
});
