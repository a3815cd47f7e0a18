/** Finite-difference checks of the rules torchvision's transformers need: Erf (GELU), Einsum. */
import assert from "node:assert/strict";
import { einsumTerms } from "../../src/grad/rules/einsum.ts";
import { assertGradients, checkGradients, node } from "./fd.ts";

Deno.test("Erf gradient matches finite differences, also inside an exported GELU", async () => {
  await assertGradients({
    nodes: [node("Erf", ["x"], ["y"])],
    inputs: [{ name: "x", dims: ["N", 3, 5], range: [-2.5, 2.5] }],
  });
  // torch.onnx's GELU: x · 0.5 · (1 + erf(x / √2)).
  await assertGradients({
    nodes: [
      node("Div", ["x", "sqrt2"], ["s"]),
      node("Erf", ["s"], ["e"]),
      node("Add", ["e", "one"], ["p"]),
      node("Mul", ["x", "p"], ["m"]),
      node("Mul", ["m", "half"], ["y"]),
    ],
    inputs: [{ name: "x", dims: ["N", 7] }],
    constants: {
      sqrt2: { dims: [], float: [Math.SQRT2] },
      one: { dims: [], float: [1] },
      half: { dims: [], float: [0.5] },
    },
  });
});

Deno.test("Einsum gradient: maxvit_t's two batched-matmul equations", async () => {
  // q·kᵀ over heads and windows, then attention · v.
  await assertGradients({
    nodes: [node("Einsum", ["q", "k"], ["y"], { equation: "bghid,bghjd->bghij" })],
    inputs: [{ name: "q", dims: ["N", 2, 3, 4, 5] }, { name: "k", dims: ["N", 2, 3, 6, 5] }],
  });
  await assertGradients({
    nodes: [node("Einsum", ["a", "v"], ["y"], { equation: "bghij,bghjd->bghid" })],
    inputs: [{ name: "a", dims: ["N", 2, 3, 4, 6] }, { name: "v", dims: ["N", 2, 3, 6, 5] }],
  });
});

Deno.test("Einsum gradient: a weight operand without the batch index", async () => {
  await assertGradients({
    nodes: [node("Einsum", ["x", "w"], ["y"], { equation: "nij, jk -> nik" })],
    inputs: [{ name: "x", dims: ["N", 3, 4] }],
    constants: { w: { dims: [4, 2], float: [0.3, -1, 0.5, 2, -0.7, 0.1, 1.2, -0.4] } },
  });
});

Deno.test("Einsum rule rejects equations it cannot differentiate, naming the equation", async () => {
  assert.match(String(einsumTerms("ii->i")), /two-operand/);
  assert.match(String(einsumTerms("...ij,...jk->...ik")), /ellipsis/);
  assert.match(String(einsumTerms("iij,jk->ik")), /repeated within the term "iij"/);
  assert.match(String(einsumTerms("ij,jk->k")), /index "i" of "ij" is summed within one operand/);
  await assert.rejects(
    checkGradients({
      nodes: [node("Einsum", ["x", "w"], ["y"], { equation: "nij,jk->nk" })],
      inputs: [{ name: "x", dims: ["N", 3, 4] }],
      constants: { w: { dims: [4, 2], float: [1, 2, 3, 4, 5, 6, 7, 8] } },
    }),
    /Einsum node .*unsupported Einsum equation "nij,jk->nk": index "i" of "nij"/,
  );
});

Deno.test("Gather gradient: a scalar index on axis 0 before the batch axis (Swin's qkv[0])", async () => {
  await assertGradients({
    nodes: [node("Gather", ["x", "i"], ["y"], { axis: 0 })],
    inputs: [{ name: "x", dims: [3, "N", 2, 4] }],
    constants: { i: { dims: [], int64: [1] } },
  });
  await assertGradients({
    nodes: [node("Gather", ["x", "i"], ["y"], { axis: 2 })],
    inputs: [{ name: "x", dims: ["N", 2, 5, 3] }],
    constants: { i: { dims: [2, 2], int64: [4, 0, -1, 2] } },
  });
});
