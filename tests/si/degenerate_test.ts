/** Import/calibration warnings: folded normalizations and degenerate zero-count methods. */
import assert from "node:assert/strict";
import { Graph } from "../../src/onnx/graph.ts";

import { foldedNormalizationNote, zeroMaskWarning } from "../../src/si/degenerate.ts";
import { degenerateCalibrationWarning } from "../../src/models/calibrate_run.ts";
import { buildCalibration } from "../../src/models/calibration.ts";
import { DEFAULT_SETTINGS } from "../../src/contract/scoring.ts";
import { caseModel, node } from "../grad/fd.ts";
import { SiEngine } from "../../src/engine/engine.ts";
import { readModel, writeModel } from "../../src/onnx/proto.ts";

function bnNet(activation: string): Graph {
  return new Graph(caseModel({
    nodes: [
      node("BatchNormalization", ["x", "s", "b", "m", "v"], ["z"]),
      node(activation, ["z"], ["a"]),
      node("ReduceMean", ["a"], ["y"], { axes: [2], keepdims: 0 }),
    ],
    inputs: [{ name: "x", dims: ["N", 2, 3] }],
    constants: Object.fromEntries(
      ["s", "b", "m", "v"].map((k) => [k, { dims: [2], float: [1, 1] }]),
    ),
  }));
}

Deno.test("zeroMaskWarning() flags smooth networks for si and is silent with Relu", () => {
  assert.match(
    zeroMaskWarning(bnNet("Sigmoid")) ?? "",
    /"si" and "gaia_z" are degenerate.*use "si_a"/,
  );
  assert.equal(zeroMaskWarning(bnNet("Relu")), undefined);
});

Deno.test("foldedNormalizationNote() names the Conv outputs a folded model uses as splits", async () => {
  const folded = readModel(await Deno.readFile("tests/fixtures/tiny/cnn-op13-folded-dyn.onnx"));
  const note = foldedNormalizationNote(new Graph(folded), 10) ?? "";
  assert.match(note, /No normalization node.*outputs of all \d+ Conv nodes/);
  assert.match(note, /"last-normalization" the last \d+: "/);
  const kept = readModel(await Deno.readFile("tests/fixtures/tiny/cnn-op17-bn-dyn.onnx"));
  assert.equal(foldedNormalizationNote(new Graph(kept), 10), undefined);
});

Deno.test("degenerateCalibrationWarning() fires when every si score is exactly -1", () => {
  const cal = (scores: number[], method = "si" as const) =>
    buildCalibration({
      settings: { ...DEFAULT_SETTINGS, method },
      scores,
      data: "x",
      created: "2026-01-01T00:00:00Z",
    });
  assert.match(degenerateCalibrationWarning(cal([-1, -1, -1])) ?? "", /calibrate "si_a"/);
  assert.equal(degenerateCalibrationWarning(cal([-1, -0.9, -1])), undefined);
});

Deno.test("an image whose gaia_a score cannot be computed gets the reason, not a bare NaN", async () => {
  // Uniform logits (a zero classifier): ∂Σ log_softmax/∂h = 0 exactly, so o = 0.
  const c = 2;
  const model = caseModel({
    nodes: [
      node("BatchNormalization", ["x", "s", "b", "m", "v"], ["z1"]),
      node("Relu", ["z1"], ["a1"]),
      node("BatchNormalization", ["a1", "s", "b", "m", "v"], ["z2"]),
      node("GlobalAveragePool", ["z2"], ["p"]),
      node("Flatten", ["p"], ["h"], { axis: 1 }),
      node("Gemm", ["h", "w", "wb"], ["y"], { transB: 1 }),
    ],
    inputs: [{ name: "x", dims: ["N", c, 3, 3] }],
    constants: {
      ...Object.fromEntries(["s", "b", "m", "v"].map((k) => [k, { dims: [c], float: [1, 1] }])),
      w: { dims: [3, c], float: [0, 0, 0, 0, 0, 0] },
      wb: { dims: [3], float: [0, 0, 0] },
    },
  });
  const engine = await SiEngine.create({
    modelBytes: writeModel(model),
    backend: "wasm",
    inputDims: [c, 3, 3],
    splitPolicy: { kind: "normalization" },
  });
  const data = Float32Array.from({ length: 2 * c * 9 }, (_, i) => Math.sin(i));
  const r = await engine.score({ data, dims: [2, c, 3, 3] }, {
    ...DEFAULT_SETTINGS,
    method: "gaia_a",
  });
  for (const s of r) {
    assert.ok(!Number.isFinite(s.score));
    assert.match(s.error ?? "", /gaia_a score is -Infinity: its output component o is 0/);
  }
  const energy = await engine.score({ data, dims: [2, c, 3, 3] }, {
    ...DEFAULT_SETTINGS,
    method: "energy",
  });
  assert.ok(energy.every((s) => Number.isFinite(s.score) && s.error === undefined));
});
