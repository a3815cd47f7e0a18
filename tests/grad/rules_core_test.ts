/** Finite-difference checks of the core rules: arithmetic, Conv, Gemm, BatchNorm, pooling, Relu. */
import { assertGradients, node, rng } from "./fd.ts";

const rand = rng(7);
const noise = (n: number, scale = 1) => Array.from({ length: n }, () => (rand() * 2 - 1) * scale);

Deno.test("Add, Sub, Mul and Div gradients undo broadcasting", async () => {
  const inputs = [
    { name: "a", dims: ["N", 3, 4] as const },
    { name: "b", dims: [3, 1] as const },
  ];
  for (const op of ["Add", "Sub", "Mul"]) {
    await assertGradients({ nodes: [node(op, ["a", "b"], ["y"])], inputs });
  }
  await assertGradients({
    nodes: [node("Div", ["a", "b"], ["y"])],
    inputs: [inputs[0], { name: "b", dims: [1, 4], range: [0.5, 2] }],
  });
});

Deno.test("Conv gradient: stride 2, padding, dilation and groups through ConvTranspose", async () => {
  await assertGradients({
    nodes: [node("Conv", ["x", "w"], ["y"], {
      strides: [2, 2],
      pads: [1, 0, 2, 1],
      dilations: [2, 1],
      group: 2,
      kernel_shape: [3, 2],
    })],
    inputs: [{ name: "x", dims: ["N", 4, 9, 8] }],
    constants: { w: { dims: [6, 2, 3, 2], float: noise(72) } },
  });
});

Deno.test("Conv gradient: auto_pad SAME_UPPER with stride 2", async () => {
  await assertGradients({
    nodes: [node("Conv", ["x", "w"], ["y"], { strides: [2, 2], auto_pad: "SAME_UPPER" })],
    inputs: [{ name: "x", dims: ["N", 2, 7, 6] }],
    constants: { w: { dims: [3, 2, 3, 3], float: noise(54) } },
  });
});

Deno.test("Conv gradient: stride 1 flipped-kernel path with groups and dilation", async () => {
  const res = await assertGradients({
    nodes: [node("Conv", ["x", "w", "bias"], ["y"], {
      pads: [1, 2, 1, 0],
      dilations: [1, 2],
      group: 2,
    })],
    inputs: [{ name: "x", dims: ["N", 4, 6, 7] }],
    constants: {
      w: { dims: [6, 2, 3, 3], float: noise(108) },
      bias: { dims: [6], float: noise(6) },
    },
  });
  if (res.gradientOps.includes("ConvTranspose")) throw new Error("stride 1 should use Conv");
});

Deno.test("Gemm gradient honours transA, transB, alpha and beta", async () => {
  await assertGradients({
    nodes: [node("Gemm", ["a", "b", "c"], ["y"], {
      transA: 1,
      transB: 1,
      alpha: { float: 0.7 },
      beta: { float: 1.3 },
    })],
    inputs: [{ name: "a", dims: [5, "N"] }, { name: "b", dims: [3, 5] }, { name: "c", dims: [3] }],
  });
  await assertGradients({
    nodes: [node("Gemm", ["a", "b"], ["y"], { alpha: { float: 1.5 } })],
    inputs: [{ name: "a", dims: ["N", 5] }],
    constants: { b: { dims: [5, 3], float: noise(15) } },
  });
});

Deno.test("BatchNormalization, GlobalAveragePool, Reshape, Flatten and Relu gradients", async () => {
  await assertGradients({
    nodes: [
      node("BatchNormalization", ["x", "s", "bb", "m", "v"], ["t"], { epsilon: { float: 1e-3 } }),
      node("Relu", ["t"], ["r"]),
      node("GlobalAveragePool", ["r"], ["p"]),
      node("Flatten", ["p"], ["f"]),
      node("Reshape", ["f", "shape"], ["y"]),
    ],
    inputs: [{ name: "x", dims: ["N", 3, 4, 5], avoid: [0] }],
    constants: {
      s: { dims: [3], float: [0.5, -1.2, 2] },
      bb: { dims: [3], float: [0.1, 0.2, -0.1] },
      m: { dims: [3], float: [0.3, -0.2, 0.1] },
      v: { dims: [3], float: [0.8, 1.5, 0.3] },
      shape: { dims: [3], int64: [-1, 3, 1] },
    },
  });
});
