import assert from "node:assert/strict";
import { Graph } from "../../src/onnx/graph.ts";
import { readModel } from "../../src/onnx/proto.ts";
import { compileScoringModel } from "../../src/si/compile.ts";
import { SiEngine } from "../../src/engine/engine.ts";
import { pooledFeatures, resolveSplits } from "../../src/si/splits.ts";
import type { ScoreSettings } from "../../src/contract/scoring.ts";
import { referenceAScores } from "./a_reference.ts";
import { probeShapes } from "../../src/runtime/shapes.ts";
import { getRuntime } from "../../src/runtime/runtime.ts";
import { tinyInputs, tinyModel } from "./tiny_model.ts";

const N = 3;
const modelBytes = tinyModel();
const input = { data: tinyInputs(N), dims: [N, 3, 8, 8] as [number, number, number, number] };
const options = {
  modelBytes,
  backend: "wasm" as const,
  inputDims: [3, 8, 8] as [number, number, number],
  splitPolicy: { kind: "normalization+pool" as const },
};
const stacked = await SiEngine.create(options);
const perSplit = await SiEngine.create({ ...options, stackRemainders: false });
const base = { alpha: 0.05, iterations: 2, loss: "ce", integrate: "add" } as const;

Deno.test("si_a and gaia_a equal the obvious per-split loop, stacked or not", async () => {
  const combos: ScoreSettings[] = [
    { ...base, method: "si_a", iterations: 1 },
    { ...base, method: "si_a" },
    { ...base, method: "si_a", iterations: 3 },
    { ...base, method: "si_a", iterations: 3, loss: "max", integrate: "multiply" },
    { ...base, method: "gaia_a" },
  ];
  const model = readModel(modelBytes);
  const graph = new Graph(model);
  const splits = resolveSplits(graph, stacked.shapes, { kind: "last-normalization", count: 10 });
  assert.equal(splits.length, 3, "the tiny model has three BatchNormalization splits");
  const pooled = pooledFeatures(graph, stacked.shapes)!;
  const seen = new Set<string>();
  for (const s of combos) {
    const slow = await referenceAScores(
      model,
      stacked.runtime,
      stacked.shapes,
      splits,
      pooled,
      s,
      input,
    );
    seen.add(slow.map((v) => v.toPrecision(6)).join());
    for (const engine of [stacked, perSplit]) {
      const fast = await engine.score(input, s);
      for (let i = 0; i < N; i++) {
        const rel = Math.abs(fast[i].score - slow[i]) / Math.abs(slow[i]);
        assert.ok(rel < 1e-4, `${JSON.stringify(s)} image ${i}: ${fast[i].score} vs ${slow[i]}`);
        assert.ok(fast[i].score < 0);
      }
    }
  }
  // The settings must matter on this model, or the comparison above would be weak.
  assert.equal(seen.size, combos.length);
});

Deno.test("si_a reuses one compiled graph for every alpha (alpha is a graph input)", async () => {
  const engine = await SiEngine.create({
    ...options,
    splitPolicy: { kind: "last-normalization", count: 10 },
  });
  const model = readModel(modelBytes);
  const s0: ScoreSettings = { ...base, method: "si_a", iterations: 3 };
  const splits = engine.splits(s0);
  const pooled = pooledFeatures(new Graph(model), engine.shapes)!;
  const seen: string[] = [];
  for (const alpha of [0.05, 1, 0.05]) {
    const s = { ...s0, alpha };
    const fast = await engine.score(input, s);
    const slow = await referenceAScores(
      model,
      engine.runtime,
      engine.shapes,
      splits,
      pooled,
      s,
      input,
    );
    for (let i = 0; i < N; i++) {
      const rel = Math.abs(fast[i].score - slow[i]) / Math.abs(slow[i]);
      assert.ok(rel < 1e-4, `alpha ${alpha} image ${i}: ${fast[i].score} vs ${slow[i]}`);
    }
    seen.push(fast.map((r) => r.score.toPrecision(6)).join());
  }
  assert.equal(engine.sessionsCreated, 1);
  assert.notEqual(seen[0], seen[1], "alpha must change the scores for this test to mean anything");
  assert.equal(seen[0], seen[2]);
});

Deno.test("si_a and gaia_a on fixed-batch and GroupNormalization exports equal the per-split loop", async () => {
  for (const file of ["cnn-op13-bn-static.onnx", "groupnorm-op18-dyn.onnx"]) {
    const bytes = await Deno.readFile(new URL(`../fixtures/tiny/${file}`, import.meta.url));
    const engine = await SiEngine.create({
      modelBytes: bytes,
      backend: "wasm",
      inputDims: [3, 16, 16],
      splitPolicy: { kind: "normalization" },
    });
    const r = tinyInputs(2 * 16, 5).subarray(0, 2 * 3 * 256);
    const batch = { data: r, dims: [2, 3, 16, 16] as [number, number, number, number] };
    const model = readModel(bytes);
    const pooled = pooledFeatures(engine.graph, engine.shapes)!;
    for (const method of ["si_a", "gaia_a"] as const) {
      const s: ScoreSettings = { ...base, method, iterations: 3 };
      const splits = engine.splits({ ...s, method: "si_a" });
      // One image per oracle run: the fixed-batch export takes batches of one.
      const slow: number[] = [];
      for (let i = 0; i < 2; i++) {
        const single = {
          data: r.subarray(i * 768, (i + 1) * 768),
          dims: [1, 3, 16, 16] as [number, number, number, number],
        };
        slow.push(
          ...await referenceAScores(
            model,
            engine.runtime,
            engine.shapes,
            splits,
            pooled,
            s,
            single,
          ),
        );
      }
      const fast = await engine.score(batch, s);
      for (let i = 0; i < 2; i++) {
        const rel = Math.abs(fast[i].score - slow[i]) / Math.abs(slow[i]);
        assert.ok(rel < 1e-4, `${file} ${method} image ${i}: ${fast[i].score} vs ${slow[i]}`);
      }
    }
  }
});

Deno.test("si_a scores do not depend on batch composition", async () => {
  const s: ScoreSettings = { ...base, method: "si_a" };
  const together = await stacked.score(input, s);
  for (let i = 0; i < N; i++) {
    const alone = await stacked.score({
      data: input.data.slice(i * 192, (i + 1) * 192),
      dims: [1, 3, 8, 8],
    }, s);
    assert.ok(Math.abs(alone[0].score - together[i].score) <= 1e-6 * Math.abs(together[i].score));
    assert.equal(alone[0].class, together[i].class);
    assert.equal(alone[0].layers?.length, 2, "one layer value per inner split");
  }
});

const BIT = new URL("../fixtures/bit-tiny-fmnist/", import.meta.url);
const bitReference = JSON.parse(await Deno.readTextFile(new URL("reference.json", BIT)));
const bit = await SiEngine.create({
  modelBytes: await Deno.readFile(new URL("model.onnx", BIT)),
  backend: "wasm",
  inputDims: [3, 32, 32],
  splitPolicy: { kind: "normalization" },
});

Deno.test("an exported GroupNorm (Reshape→InstanceNormalization→Reshape→Mul→Add) is one normalization ending at the Add", () => {
  const all = resolveSplits(bit.graph, bit.shapes, { kind: "normalization" });
  assert.equal(all.length, 19);
  assert.ok(all.every((n) => /\/gn\d?\/Add_output_0$/.test(n)), all.join());
  const last = resolveSplits(bit.graph, bit.shapes, { kind: "last-normalization", count: 10 });
  assert.deepEqual(last, bitReference.splits);
  // With a `normalization` model policy, the A variant still takes the last ten.
  assert.deepEqual(bit.splits({ ...base, method: "si_a" }), bitReference.splits);
  assert.deepEqual(bit.splits({ ...base, method: "gaia_a" }), bitReference.splits.slice(0, 9));
});

Deno.test("the pooled features are found automatically, not among the weight-standardization means", () => {
  assert.equal(pooledFeatures(bit.graph, bit.shapes), bitReference.pooled);
});

Deno.test("the A variant names what is missing when it cannot find or use the pooled features", () => {
  const compile = (pooled: string) =>
    compileScoringModel(
      bit.model,
      bit.shapes,
      { ...base, method: "si_a" },
      bitReference.splits,
      { pooled },
    );
  assert.throws(() => compile("nope"), /splits\.pooled "nope" is no node output of the model/);
  assert.throws(
    () => compile(bitReference.splits[3]),
    /is not computed from the last split/,
  );
  assert.throws(
    () => resolveSplits(bit.graph, bit.shapes, { kind: "last-normalization", count: 0 }),
    /positive integer count/,
  );
});

Deno.test("weight standardization carries no gradient: the backward reads only its final kernels", async () => {
  // The compiler on the model as exported (the engine folds the standardization first:
  // src/engine/constant_fold.ts; this checks the compiler where nobody did).
  const raw = readModel(await Deno.readFile(new URL("model.onnx", BIT)));
  const graph = new Graph(raw);
  const shapes = await probeShapes(raw, await getRuntime("wasm"), [3, 32, 32]);
  const model = compileScoringModel(
    raw,
    shapes,
    { ...base, method: "si_a" },
    bitReference.splits,
  );
  // Tensors computed from initializers only (the standardization subgraphs), Constant nodes aside.
  const computedConstants = new Set(
    graph.nodes.filter((n) => n.opType !== "Constant").flatMap((n) => n.output ?? [])
      .filter((o) => graph.isConstant(o)),
  );
  const kernels = new Set(
    graph.nodes.filter((n) => n.opType === "Conv").map((n) => n.input![1]),
  );
  const original = new Set(graph.nodes.map((n) => n.name));
  const read = new Set<string>();
  for (const n of model.graph!.node!) {
    if (original.has(n.name)) continue;
    for (const i of n.input ?? []) if (computedConstants.has(i)) read.add(i);
  }
  assert.ok(read.size > 0, "the backward convolutions read standardized kernels");
  const other = [...read].filter((t) => !kernels.has(t));
  assert.deepEqual(other, [], "no gradient flows into the standardization arithmetic");
  // What the engine compiles from has the kernels as initializers.
  assert.ok(!bit.graph.nodes.some((n) => n.opType === "Sqrt"), "the engine's model is folded");
});
