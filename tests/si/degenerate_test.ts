/** Import/calibration warnings: folded normalizations and degenerate zero-count methods. */
import assert from "node:assert/strict";
import { Graph } from "../../src/onnx/graph.ts";
import { readModel } from "../../src/onnx/proto.ts";
import { foldedNormalizationNote, zeroMaskWarning } from "../../src/si/degenerate.ts";
import { degenerateCalibrationWarning } from "../../src/models/calibrate_run.ts";
import { buildCalibration } from "../../src/models/calibration.ts";
import { DEFAULT_SETTINGS } from "../../src/contract/scoring.ts";
import { caseModel, node } from "../grad/fd.ts";

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
