/**
 * Stacked remainders across parallel branches that each start streams (torchvision's ResNet
 * bottleneck with a projection shortcut): the stacked graph must be built (no per-split clones)
 * and give the authors' slow loop's masks.
 */
import assert from "node:assert/strict";
import { GraphBuilder } from "../../src/onnx/builder.ts";
import { readModel } from "../../src/onnx/proto.ts";
import { SiEngine } from "../../src/engine/engine.ts";
import { referenceScores } from "../../bench/lib/reference_loop.ts";
import { emitStackedPass } from "../../src/si/stacked.ts";
import type { ScoreSettings } from "../../src/contract/scoring.ts";
import { tinyInputs, tinyProjectionModel } from "./tiny_model.ts";

const N = 2;
const modelBytes = tinyProjectionModel();
const input = { data: tinyInputs(N, 11), dims: [N, 3, 8, 8] as [number, number, number, number] };
const engine = await SiEngine.create({
  modelBytes,
  backend: "wasm",
  inputDims: [3, 8, 8],
  splitPolicy: { kind: "normalization" },
});

Deno.test("emitStackedPass() stacks a projection shortcut whose BatchNorm follows the main branch", () => {
  const splits = engine.splits({
    method: "si",
    alpha: 0.05,
    iterations: 2,
    loss: "ce",
    integrate: "add",
  });
  assert.equal(splits.length, 4);
  assert.match(splits[3], /BatchNormalization/);
  const b = new GraphBuilder(17, [], "t");
  const pass = emitStackedPass(
    b,
    engine.graph,
    engine.shapes,
    splits,
    splits.map((_, i) => `z${i}`),
    "x",
  );
  assert.ok(pass.ok, "the graph is stackable");
  if (!pass.ok) return;
  const ops = pass.nodes.map((n) => n.opType);
  assert.ok(ops.includes("Split"), "the main branch's streams are cut into blocks at the Add");
});

Deno.test("SiEngine gives the slow loop's masks on the projection-shortcut model", async () => {
  const model = readModel(modelBytes);
  for (const iterations of [1, 2, 3]) {
    for (const integrate of ["add", "multiply"] as const) {
      const s: ScoreSettings = { method: "si", alpha: 0.05, iterations, loss: "ce", integrate };
      const splits = engine.splits(s);
      const slow = await referenceScores(model, engine.runtime, engine.shapes, splits, s, input);
      const fast = await engine.fractions(input, s);
      const scores = await engine.score(input, s);
      for (let i = 0; i < N; i++) {
        assert.deepEqual(
          fast[i].map((v) => Math.round(v * 1e6)),
          slow[i].fractions.map((v) => Math.round(v * 1e6)),
          `T=${iterations} ${integrate} image ${i}`,
        );
        assert.ok(Math.abs(scores[i].score - slow[i].score) < 1e-6);
      }
    }
  }
});
