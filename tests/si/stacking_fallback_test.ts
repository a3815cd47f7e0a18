import assert from "node:assert/strict";
import { GraphBuilder } from "../../src/onnx/builder.ts";
import { Graph } from "../../src/onnx/graph.ts";
import { readModel } from "../../src/onnx/proto.ts";
import { SiEngine } from "../../src/engine/engine.ts";
import { stackingFallbackCounts } from "../../src/engine/fallbacks.ts";
import { referenceScores } from "../../bench/lib/reference_loop.ts";
import { emitStackedPass } from "../../src/si/stacked.ts";
import type { ScoreSettings } from "../../src/contract/scoring.ts";
import { tinyInputs, tinyModel, type TinyVariant } from "./tiny_model.ts";

const options = {
  backend: "wasm" as const,
  inputDims: [3, 8, 8] as [number, number, number],
  splitPolicy: { kind: "normalization" as const },
};
const settings: ScoreSettings = {
  method: "si",
  alpha: 0.05,
  iterations: 2,
  loss: "ce",
  integrate: "add",
};
const input = { data: tinyInputs(2), dims: [2, 3, 8, 8] as [number, number, number, number] };

async function stackedPass(variant: TinyVariant) {
  const bytes = tinyModel(1, variant);
  const engine = await SiEngine.create({ ...options, modelBytes: bytes, source: variant });
  const graph = new Graph(readModel(bytes));
  const splits = engine.splits(settings);
  const b = new GraphBuilder(17, graph.nodes.flatMap((n) => n.output ?? []), "t");
  return emitStackedPass(b, graph, engine.shapes, splits, splits.map((s) => `${s}_z`), "t1");
}

Deno.test("emitStackedPass() stacks parallel branches and says why a batch-fixing Reshape cannot be", async () => {
  assert.equal((await stackedPass("residual")).ok, true);
  assert.equal((await stackedPass("parallel")).ok, true);
  const pass = await stackedPass("input-shape");
  assert.equal(pass.ok, false);
  assert.match(pass.ok ? "" : pass.reason, /Reshape .* does not keep the batch axis/);
});

Deno.test("stacked passes over a projection shortcut give the slow loop's masks", async () => {
  const bytes = tinyModel(1, "parallel");
  const engine = await SiEngine.create({ ...options, modelBytes: bytes, source: "parallel" });
  const splits = engine.splits(settings);
  assert.equal(splits.length, 4);
  const model = readModel(bytes);
  for (const s of [settings, { ...settings, iterations: 3, integrate: "multiply" as const }]) {
    const slow = await referenceScores(model, engine.runtime, engine.shapes, splits, s, input);
    const fast = await engine.fractions(input, s);
    fast.forEach((f, i) =>
      assert.deepEqual(
        f.map((v) => Math.round(v * 1e6)),
        slow[i].fractions.map((v) => Math.round(v * 1e6)),
        `${JSON.stringify(s)} image ${i}`,
      )
    );
  }
  assert.equal(stackingFallbackCounts().get("parallel"), undefined);
});

Deno.test("SiEngine falls back to per-split clones once per graph, counts it, and scores alike", async () => {
  const bytes = tinyModel(1, "input-shape");
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (m: string) => warnings.push(m);
  try {
    const engine = await SiEngine.create({ ...options, modelBytes: bytes, source: "shape-b" });
    const clones = await SiEngine.create({
      ...options,
      modelBytes: bytes,
      source: "shape-c",
      stackRemainders: false,
    });
    const got = await engine.score(input, settings);
    await engine.score(input, { ...settings, alpha: 0.1 }); // same graph: no second compile
    await engine.score(input, { ...settings, iterations: 3 }); // a new graph falls back again
    const want = await clones.score(input, settings);
    assert.deepEqual(got.map((r) => r.score), want.map((r) => r.score));
    assert.equal(stackingFallbackCounts().get("shape-b"), 2);
    assert.equal(stackingFallbackCounts().get("shape-c"), undefined, "stacking was off");
    assert.equal(warnings.filter((w) => w.includes('"shape-b"')).length, 1, "logged once");
  } finally {
    console.warn = warn;
  }
});
