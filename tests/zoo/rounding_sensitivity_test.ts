/**
 * tools/zoo/fd_check.ts's roundingSensitivity() on two 12-value graphs: the identity (perfectly
 * conditioned: one ulp in, at most one ulp out) and input − c with c equal to the input in all but
 * the last digit (catastrophic cancellation: one ulp in moves the output by its own size).
 */
import assert from "node:assert/strict";
import { roundingSensitivity } from "../../tools/zoo/fd_check.ts";
import { caseModel, node } from "../grad/fd.ts";
import { writeModel } from "../../src/onnx/proto.ts";

const DIMS = [3, 2, 2] as const;
const X = Float32Array.from({ length: 12 }, (_, i) => 1 + i / 8);

function bytesOf(nodes: ReturnType<typeof node>[], constants = {}): Uint8Array {
  return writeModel(caseModel({
    nodes,
    inputs: [{ name: "input", dims: ["N", ...DIMS] }],
    constants,
  }));
}

Deno.test("roundingSensitivity() is at float32 precision on the identity", async () => {
  const [shift] = await roundingSensitivity(
    bytesOf([node("Identity", ["input"], ["y"])]),
    [X],
    DIMS,
  );
  assert.ok(shift <= 1.2e-7, `identity: logits moved ${shift}`);
});

Deno.test("roundingSensitivity() is large where the graph cancels its input", async () => {
  // c = x − 4 ulp: y = x − c is a few ulp, and a one-ulp input change is a large part of it.
  const c = X.map((v) => v - 4 * 2 ** -23 * 2 ** Math.floor(Math.log2(v)));
  const bytes = bytesOf([node("Sub", ["input", "c"], ["y"])], {
    c: { dims: [1, ...DIMS], float: [...c] },
  });
  const [shift] = await roundingSensitivity(bytes, [X], DIMS);
  assert.ok(shift > 0.05, `cancellation: logits moved only ${shift}`);
});
