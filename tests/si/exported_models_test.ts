/**
 * The engine on real PyTorch exports (opsets 13/17/18, folded and kept BatchNorm, static and
 * dynamic batch, GroupNorm, MobileNet-like): S&I with T = 3 (two cotangents per pass, stacked
 * or cloned remainders, one backward per cotangent for fixed-batch models) gives the masks of
 * the authors' slow loop, and every method compiles and runs.
 */
import assert from "node:assert/strict";
import { readModel } from "../../src/onnx/proto.ts";
import { SiEngine } from "../../src/engine/engine.ts";
import { referenceScores } from "../../bench/lib/reference_loop.ts";
import { METHODS, type ScoreSettings } from "../../src/contract/scoring.ts";
import { rng } from "./tiny_model.ts";

const DIR = new URL("../fixtures/tiny/", import.meta.url);
const FILES = ["cnn-op13-bn-static.onnx", "groupnorm-op18-dyn.onnx", "mobile-op17-folded-dyn.onnx"];
const N = 2;
const r = rng(3);
const input = {
  data: Float32Array.from({ length: N * 3 * 256 }, () => r() * 2 - 1),
  dims: [N, 3, 16, 16] as [number, number, number, number],
};
const settings: ScoreSettings = {
  method: "si",
  alpha: 0.05,
  iterations: 3,
  loss: "ce",
  integrate: "add",
};

for (const file of FILES) {
  Deno.test(`SiEngine on ${file} gives the slow loop's masks and runs every method`, async () => {
    const modelBytes = await Deno.readFile(new URL(file, DIR));
    const engine = await SiEngine.create({
      modelBytes,
      backend: "wasm",
      inputDims: [3, 16, 16],
      splitPolicy: { kind: "normalization+pool" },
    });
    assert.equal(engine.staticBatch === undefined, file.includes("dyn"));
    const splits = engine.splits(settings);
    const slow = await referenceScores(
      readModel(modelBytes),
      engine.runtime,
      engine.shapes,
      splits,
      settings,
      input,
    );
    const fast = await engine.fractions(input, settings);
    for (let i = 0; i < N; i++) {
      const round = (v: number[]) => v.map((x) => Math.round(x * 1e6));
      assert.deepEqual(round(fast[i]), round(slow[i].fractions), `image ${i}`);
    }
    // `fused` is scored around the engine (src/models/fusion.ts), which refuses it by name.
    for (const method of METHODS.filter((m) => m !== "fused")) {
      const scores = await engine.score(input, { ...settings, method });
      assert.equal(scores.length, N);
      for (const s of scores) assert.ok(Number.isFinite(s.score), `${method} gave ${s.score}`);
    }
    await assert.rejects(
      engine.score(input, { ...settings, method: "fused" }),
      /"fused" is scored through a loaded model/,
    );
  });
}
