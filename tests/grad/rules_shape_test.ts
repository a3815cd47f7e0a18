/** Finite-difference checks of MatMul and the data-movement rules. */
import { assertGradients, node } from "./fd.ts";

Deno.test("MatMul gradient: batched with broadcasting, and 1-D operands", async () => {
  await assertGradients({
    nodes: [node("MatMul", ["a", "b"], ["y"])],
    inputs: [{ name: "a", dims: ["N", 1, 3, 4] }, { name: "b", dims: [2, 4, 5] }],
  });
  await assertGradients({
    nodes: [node("MatMul", ["a", "b"], ["y"])],
    inputs: [{ name: "a", dims: ["N", 3, 4] }, { name: "b", dims: [4] }],
  });
  await assertGradients({
    nodes: [node("MatMul", ["a", "b"], ["y"])],
    inputs: [{ name: "a", dims: [4] }, { name: "b", dims: ["N", 4, 2] }],
  });
});

Deno.test("Transpose, Squeeze and Unsqueeze gradients", async () => {
  await assertGradients({
    nodes: [
      node("Transpose", ["x"], ["t"], { perm: [0, 2, 3, 1] }),
      node("Unsqueeze", ["t", "ax"], ["u"]),
      node("Squeeze", ["u", "ax"], ["s"]),
      node("Transpose", ["s"], ["y"]),
    ],
    inputs: [{ name: "x", dims: ["N", 2, 3, 4] }],
    constants: { ax: { dims: [1], int64: [2] } },
  });
  await assertGradients({
    nodes: [
      node("Unsqueeze", ["x"], ["u"], { axes: [1] }),
      node("Squeeze", ["u"], ["y"], { axes: [1] }),
    ],
    inputs: [{ name: "x", dims: ["N", 3] }],
    opset: 11,
  });
});

Deno.test("Concat and Split gradients (an unused Split output gets zeros)", async () => {
  await assertGradients({
    nodes: [node("Concat", ["a", "b", "c"], ["y"], { axis: -2 })],
    inputs: [
      { name: "a", dims: ["N", 2, 3] },
      { name: "b", dims: ["N", 1, 3] },
      { name: "c", dims: ["N", 4, 3] },
    ],
  });
  await assertGradients({
    nodes: [
      node("Split", ["x", "sizes"], ["p", "q", "r"], { axis: 1 }),
      node("Concat", ["r", "p"], ["y"], { axis: 1 }),
    ],
    inputs: [{ name: "x", dims: ["N", 7, 2] }],
    constants: { sizes: { dims: [3], int64: [2, 4, 1] } },
  });
  await assertGradients({
    nodes: [
      node("Split", ["x"], ["p", "q"], { axis: 2, num_outputs: 2 }),
      node("Mul", ["q", "p"], ["y"]),
    ],
    inputs: [{ name: "x", dims: ["N", 3, 4] }],
    opset: 18,
  });
});

Deno.test("Slice gradient: offsets, negative indices, steps 2 and -2, attributes (opset 9)", async () => {
  await assertGradients({
    nodes: [node("Slice", ["x", "st", "en", "ax", "sp"], ["y"])],
    inputs: [{ name: "x", dims: ["N", 7, 9] }],
    constants: {
      st: { dims: [2], int64: [1, -2] },
      en: { dims: [2], int64: [6, -100] },
      ax: { dims: [2], int64: [1, -1] },
      sp: { dims: [2], int64: [2, -2] },
    },
  });
  await assertGradients({
    nodes: [node("Slice", ["x", "st", "en"], ["y"])],
    inputs: [{ name: "x", dims: ["N", 5, 6] }],
    constants: { st: { dims: [3], int64: [0, 1, 2] }, en: { dims: [3], int64: [2 ** 62, 4, 5] } },
  });
  await assertGradients({
    nodes: [node("Slice", ["x"], ["y"], { starts: [1], ends: [3], axes: [2] })],
    inputs: [{ name: "x", dims: ["N", 2, 5] }],
    opset: 9,
  });
});

Deno.test("Pad gradient (constant mode, pads as input, axes input at opset 18)", async () => {
  await assertGradients({
    nodes: [node("Pad", ["x", "p", "v"], ["y"], { mode: "constant" })],
    inputs: [{ name: "x", dims: ["N", 2, 3, 4] }],
    constants: { p: { dims: [8], int64: [0, 0, 1, 2, 0, 1, 0, 3] }, v: { dims: [], float: [0.5] } },
  });
  await assertGradients({
    nodes: [node("Pad", ["x", "p", "", "ax"], ["y"])],
    inputs: [{ name: "x", dims: ["N", 2, 3, 4] }],
    constants: { p: { dims: [4], int64: [2, 0, 1, 1] }, ax: { dims: [2], int64: [-1, 2] } },
    opset: 18,
  });
});

Deno.test("Expand and Gather (constant indices, repeated and negative) gradients", async () => {
  await assertGradients({
    nodes: [node("Expand", ["x", "shape"], ["y"])],
    inputs: [{ name: "x", dims: ["N", 1, 3] }],
    constants: { shape: { dims: [4], int64: [2, 1, 4, 3] } },
  });
  await assertGradients({
    nodes: [node("Gather", ["x", "idx"], ["y"], { axis: 1 })],
    inputs: [{ name: "x", dims: ["N", 5, 3] }],
    constants: { idx: { dims: [2, 2], int64: [4, 0, -1, 2] } },
  });
  await assertGradients({
    nodes: [node("Gather", ["x", "idx"], ["y"], { axis: 2 })],
    inputs: [{ name: "x", dims: ["N", 2, 6] }],
    constants: { idx: { dims: [], int64: [3] } },
  });
});
