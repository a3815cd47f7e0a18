/**
 * A scorer factory module for worker tests: the fake model's scorer, plus a blocking mode.
 * `args.manifest.name` selects behaviour: "blocking-<ms>" busy-waits that long per batch (like
 * onnxruntime does), "sleeping-<ms>" sleeps that long per batch (abortable by the call's
 * signal), "broken" fails to build, anything else scores like the fake model.
 * @module
 */
import type { ScorerFactory } from "../../src/contract/scoring.ts";
import { createFakeModel } from "../helpers/fake_model.ts";

/** The factory the worker imports. */
export const createScorer: ScorerFactory = (args) => {
  const name = (args.manifest as unknown as { name: string }).name;
  if (name === "broken") return Promise.reject(new Error("cannot build broken model"));
  const sleep = /^sleeping-(\d+)$/.exec(name);
  const fake = createFakeModel({
    inputDims: args.inputDims,
    layers: true,
    ...(sleep ? { delayMs: Number(sleep[1]) } : {}),
  });
  const block = /^blocking-(\d+)$/.exec(name);
  if (!block) return Promise.resolve(fake.scorer);
  return Promise.resolve({
    splits: fake.scorer.splits,
    score(batch, settings) {
      const until = performance.now() + Number(block[1]);
      while (performance.now() < until) { /* a synchronous native call */ }
      return fake.scorer.score(batch, settings);
    },
  });
};
