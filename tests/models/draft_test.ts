import assert from "node:assert/strict";
import { draftManifest, graphFacts } from "../../src/models/draft.ts";
import { parseManifest } from "../../src/models/manifest.ts";

const folded = await Deno.readFile("tests/fixtures/wrn40-fmnist/model.folded.onnx");
const base = {
  id: "folded",
  sha256: "0".repeat(64),
  source: "model.folded.onnx",
  created: "2026-01-01",
};

Deno.test("graphFacts() reads names, shapes and normalization nodes of the fixture model", () => {
  const f = graphFacts(folded, "model.folded.onnx");
  assert.equal(f.input, "input");
  assert.equal(f.output, "logits");
  assert.deepEqual(f.dims, [3, 32, 32]);
  assert.equal(f.classes, 10);
  assert.equal(f.normalizationNodes, 18); // per the fixture README
  assert.equal(f.globalPool, true);
});

Deno.test("draftManifest() drafts a valid manifest that reproduces the fixture pipeline when told", () => {
  const f = graphFacts(folded, "model.folded.onnx");
  const labels = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
  const json = draftManifest(f, {
    ...base,
    labels,
    color: "gray",
    pad: 2,
    mean: [0.286],
    std: [0.353],
  });
  const m = parseManifest(json, "draft");
  assert.deepEqual(m.preprocess.resize, { width: 28, height: 28, method: "area" });
  assert.equal(m.preprocess.replicate, 3);
  assert.equal(m.preprocess.pad.top, 2);
  assert.deepEqual(m.labels, labels);
  assert.equal(m.splits.policy, "normalization+pool");
});

Deno.test("draftManifest() defaults to rgb, numbered labels and plain /255 scaling", () => {
  const m = parseManifest(draftManifest(graphFacts(folded, "x"), base), "draft");
  assert.equal(m.preprocess.color, "rgb");
  assert.equal(m.preprocess.replicate, 1);
  assert.deepEqual([m.preprocess.mean, m.preprocess.std], [[0], [1]]);
  assert.equal(m.labels[9], "class_9");
});

Deno.test("draftManifest() rejects a label count that differs from the model's classes", () => {
  assert.throws(
    () => draftManifest(graphFacts(folded, "x"), { ...base, labels: ["a", "b"] }),
    /2 labels given but the model has 10 classes/,
  );
  assert.throws(
    () => draftManifest(graphFacts(folded, "x"), { ...base, id: "../x" }),
    /Invalid model id/,
  );
});
