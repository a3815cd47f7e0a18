import assert from "node:assert/strict";
import { GraphBuilder } from "../../src/onnx/builder.ts";
import { Graph } from "../../src/onnx/graph.ts";
import { readModel } from "../../src/onnx/proto.ts";
import { SiEngine } from "../../src/si/engine.ts";
import { stackingFallbackCounts } from "../../src/si/fallbacks.ts";
import { emitStackedPass } from "../../src/si/stacked.ts";
import type { ScoreSettings } from "../../src/si/types.ts";
import { tinyInputs, tinyModel } from "./tiny_model.ts";

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

Deno.test("emitStackedPass() says why parallel branches cannot be stacked", async () => {
  const bytes = tinyModel(1, true);
  const engine = await SiEngine.create({ ...options, modelBytes: bytes, source: "parallel-a" });
  const graph = new Graph(readModel(bytes));
  const splits = engine.splits(settings);
  const b = new GraphBuilder(17, graph.nodes.flatMap((n) => n.output ?? []), "t");
  const pass = emitStackedPass(b, graph, engine.shapes, splits, splits.map((s) => `${s}_z`), "t1");
  assert.equal(pass.ok, false);
  assert.match(pass.ok ? "" : pass.reason, /not downstream of exactly the splits before it/);

  const chain = tinyModel(1, false);
  const chainEngine = await SiEngine.create({ ...options, modelBytes: chain });
  const g2 = new Graph(readModel(chain));
  const s2 = chainEngine.splits(settings);
  const b2 = new GraphBuilder(17, g2.nodes.flatMap((n) => n.output ?? []), "t");
  assert.equal(
    emitStackedPass(b2, g2, chainEngine.shapes, s2, s2.map((s) => `${s}_z`), "t1").ok,
    true,
  );
});

Deno.test("SiEngine falls back to per-split clones once per graph, counts it, and scores alike", async () => {
  const bytes = tinyModel(1, true);
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (m: string) => warnings.push(m);
  try {
    const engine = await SiEngine.create({ ...options, modelBytes: bytes, source: "parallel-b" });
    const clones = await SiEngine.create({
      ...options,
      modelBytes: bytes,
      source: "parallel-c",
      stackRemainders: false,
    });
    const got = await engine.score(input, settings);
    await engine.score(input, { ...settings, alpha: 0.1 }); // same graph: no second compile
    await engine.score(input, { ...settings, iterations: 3 }); // a new graph falls back again
    const want = await clones.score(input, settings);
    assert.deepEqual(got.map((r) => r.score), want.map((r) => r.score));
    assert.equal(stackingFallbackCounts().get("parallel-b"), 2);
    assert.equal(stackingFallbackCounts().get("parallel-c"), undefined, "stacking was off");
    assert.equal(warnings.filter((w) => w.includes('"parallel-b"')).length, 1, "logged once");
  } finally {
    console.warn = warn;
  }
});
