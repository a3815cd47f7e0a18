/** Finite-difference checks of activation, softmax and elementwise math rules. */
import { assertGradients, node } from "./fd.ts";

const x = (extra: Partial<{ range: [number, number]; avoid: number[] }> = {}) => ({
  name: "x",
  dims: ["N", 3, 4] as const,
  ...extra,
});

Deno.test("LeakyRelu gradient: slope alpha below zero", async () => {
  await assertGradients({
    nodes: [node("LeakyRelu", ["x"], ["y"], { alpha: { float: 0.1 } })],
    inputs: [x({ avoid: [0] })],
  });
});

Deno.test("Clip gradient with min/max inputs (Relu6) and with attributes before opset 11", async () => {
  await assertGradients({
    nodes: [node("Clip", ["x", "lo", "hi"], ["y"])],
    inputs: [x({ range: [-2, 8], avoid: [0, 6] })],
    constants: { lo: { dims: [], float: [0] }, hi: { dims: [], float: [6] } },
  });
  await assertGradients({
    nodes: [node("Clip", ["x", "", "hi"], ["y"])],
    inputs: [x({ avoid: [1] })],
    constants: { hi: { dims: [], float: [1] } },
  });
  await assertGradients({
    nodes: [node("Clip", ["x"], ["y"], { min: { float: -1 }, max: { float: 1.5 } })],
    inputs: [x({ avoid: [-1, 1.5] })],
    opset: 9,
  });
});

Deno.test("Sigmoid, Tanh, HardSigmoid and HardSwish gradients", async () => {
  for (const op of ["Sigmoid", "Tanh"]) {
    await assertGradients({ nodes: [node(op, ["x"], ["y"])], inputs: [x()] });
  }
  await assertGradients({
    nodes: [node("HardSigmoid", ["x"], ["y"], { alpha: { float: 0.25 }, beta: { float: 0.4 } })],
    inputs: [x({ range: [-4, 4], avoid: [-1.6, 2.4] })],
  });
  await assertGradients({
    nodes: [node("HardSwish", ["x"], ["y"])],
    inputs: [x({ range: [-5, 5], avoid: [-3, 3] })],
  });
});

Deno.test("Softmax and LogSoftmax gradients: single axis (opset 13+) and flattened (opset 11)", async () => {
  for (const op of ["Softmax", "LogSoftmax"]) {
    await assertGradients({ nodes: [node(op, ["x"], ["y"], { axis: 1 })], inputs: [x()] });
    await assertGradients({ nodes: [node(op, ["x"], ["y"])], inputs: [x()] });
    await assertGradients({
      nodes: [node(op, ["x"], ["y"], { axis: 1 })],
      inputs: [x()],
      opset: 11,
    });
  }
});

Deno.test("Sqrt, Exp, Log and Pow-with-constant-exponent gradients", async () => {
  const positive = x({ range: [0.3, 2] });
  for (const op of ["Sqrt", "Exp", "Log"]) {
    await assertGradients({ nodes: [node(op, ["x"], ["y"])], inputs: [positive] });
  }
  for (const e of [2, 3, 0.5, -1.5]) {
    await assertGradients({
      nodes: [node("Pow", ["x", "e"], ["y"])],
      inputs: [positive],
      constants: { e: { dims: [], float: [e] } },
    });
  }
});

Deno.test("Sum and Mean gradients over three broadcast operands", async () => {
  for (const op of ["Sum", "Mean"]) {
    await assertGradients({
      nodes: [node(op, ["a", "b", "c"], ["y"])],
      inputs: [
        { name: "a", dims: ["N", 3, 4] },
        { name: "b", dims: [4] },
        { name: "c", dims: ["N", 3, 1] },
      ],
    });
  }
});
