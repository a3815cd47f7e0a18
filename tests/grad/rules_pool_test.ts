/** Finite-difference checks of pooling, reduction and normalization rules. */
import assert from "node:assert/strict";
import { assertGradients, gradientValues, node } from "./fd.ts";

Deno.test("AveragePool gradient: plain, padded with count_include_pad 0/1, ceil_mode", async () => {
  const x = { name: "x", dims: ["N", 2, 7, 6] as const };
  await assertGradients({
    nodes: [node("AveragePool", ["x"], ["y"], { kernel_shape: [2, 2], strides: [2, 2] })],
    inputs: [x],
  });
  for (const countIncludePad of [0, 1]) {
    for (const ceil of [0, 1]) {
      await assertGradients({
        nodes: [node("AveragePool", ["x"], ["y"], {
          // Width: the ceil_mode window starts inside the input (onnxruntime's shape inference and
          // its kernel disagree about windows that start in the padding).
          kernel_shape: [3, 3],
          strides: [2, 2],
          pads: [1, 0, 1, 0],
          count_include_pad: countIncludePad,
          ceil_mode: ceil,
        })],
        inputs: [x],
      });
    }
  }
});

Deno.test("MaxPool gradient: overlapping padded windows, ceil_mode, dilation", async () => {
  const x = { name: "x", dims: ["N", 2, 7, 6] as const, distinct: true };
  const res = await assertGradients({
    nodes: [node("MaxPool", ["x"], ["y"], {
      kernel_shape: [3, 3],
      strides: [2, 2],
      pads: [1, 1, 1, 1],
    })],
    inputs: [x],
  });
  const pools = res.gradientOps.filter((op) => op === "MaxPool");
  assert.equal(pools.length, 1, "only the forward MaxPool: the gradient must not use Indices");
  await assertGradients({
    nodes: [node("MaxPool", ["x"], ["y"], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 })],
    inputs: [x],
  });
  await assertGradients({
    nodes: [node("MaxPool", ["x"], ["y"], { kernel_shape: [2, 2], dilations: [2, 1] })],
    inputs: [x],
  });
});

Deno.test("ReduceMean and ReduceSum gradients: axes as attribute or input, keepdims 0/1", async () => {
  const x = { name: "x", dims: ["N", 3, 4, 2] as const };
  await assertGradients({
    nodes: [node("ReduceMean", ["x"], ["y"], { axes: [2, -1], keepdims: 0 })],
    inputs: [x],
    opset: 17,
  });
  await assertGradients({
    nodes: [node("ReduceMean", ["x", "ax"], ["y"], { keepdims: 1 })],
    inputs: [x],
    constants: { ax: { dims: [1], int64: [1] } },
    opset: 18,
  });
  await assertGradients({
    nodes: [node("ReduceSum", ["x", "ax"], ["y"], { keepdims: 0 })],
    inputs: [x],
    constants: { ax: { dims: [2], int64: [3, 1] } },
    opset: 13,
  });
  await assertGradients({
    nodes: [node("ReduceSum", ["x"], ["y"], { axes: [1] })],
    inputs: [x],
    opset: 11,
  });
});

Deno.test("InstanceNormalization gradient, and GroupNorm as exported (Reshape+InstanceNorm+Mul+Add)", async () => {
  await assertGradients({
    nodes: [node("InstanceNormalization", ["x", "s", "b"], ["y"], { epsilon: { float: 1e-3 } })],
    inputs: [{ name: "x", dims: ["N", 3, 4, 5] }],
    constants: { s: { dims: [3], float: [0.5, -1.5, 2] }, b: { dims: [3], float: [0.1, 0, 0.3] } },
  });
  await assertGradients({
    nodes: [
      node("Reshape", ["x", "grouped"], ["g"]),
      node("InstanceNormalization", ["g", "ones", "zeros"], ["n"], { epsilon: { float: 1e-5 } }),
      node("Reshape", ["n", "back"], ["r"]),
      node("Mul", ["r", "gamma"], ["m"]),
      node("Add", ["m", "beta"], ["y"]),
    ],
    inputs: [{ name: "x", dims: ["N", 4, 3, 3] }],
    constants: {
      grouped: { dims: [3], int64: [0, 2, -1] },
      back: { dims: [4], int64: [0, 4, 3, 3] },
      ones: { dims: [2], float: [1, 1] },
      zeros: { dims: [2], float: [0, 0] },
      gamma: { dims: [4, 1, 1], float: [1.5, -0.5, 0.7, 1] },
      beta: { dims: [4, 1, 1], float: [0, 0.1, 0.2, 0.3] },
    },
  });
});

Deno.test("GroupNormalization (opset 18) gradient", async () => {
  await assertGradients({
    nodes: [node("GroupNormalization", ["x", "s", "b"], ["y"], { num_groups: 2 })],
    inputs: [{ name: "x", dims: ["N", 4, 3, 2] }],
    constants: { s: { dims: [2], float: [0.5, -1.5] }, b: { dims: [2], float: [0.1, 0.3] } },
    opset: 18,
  });
});

Deno.test("LayerNormalization gradient over the last axis and over C, H, W", async () => {
  await assertGradients({
    nodes: [node("LayerNormalization", ["x", "s", "b"], ["y"])],
    inputs: [{ name: "x", dims: ["N", 3, 5] }],
    constants: {
      s: { dims: [5], float: [0.5, -1.5, 2, 1, 0.25] },
      b: { dims: [5], float: [0, 1, 0, 0.5, 0] },
    },
    opset: 17,
  });
  await assertGradients({
    nodes: [node("LayerNormalization", ["x", "s"], ["y"], { axis: 1 })],
    inputs: [{ name: "x", dims: ["N", 2, 3, 2] }],
    constants: { s: { dims: [2, 3, 2], float: [1, 2, -1, 0.5, 1.5, -2, 1, 1, 0.5, 2, -0.5, 1] } },
    opset: 17,
  });
});

Deno.test("MaxPool gradient sends a tied window's whole gradient to its first element, as PyTorch", async () => {
  // One image, one channel, 2×4 → two 2×2 windows: the left one all equal, the right one with a
  // tie between its last two elements.
  const x = Float32Array.from([1, 1, 3, 5, 1, 1, 2, 5]);
  const g = await gradientValues(
    {
      nodes: [node("MaxPool", ["x"], ["y"], { kernel_shape: [2, 2], strides: [2, 2] })],
      inputs: [{ name: "x", dims: ["N", 1, 2, 4] }],
      batch: 1,
    },
    { x },
    Float32Array.from([10, 20]),
  );
  assert.deepEqual(Array.from(g.x), [10, 0, 0, 20, 0, 0, 0, 0]);
});
