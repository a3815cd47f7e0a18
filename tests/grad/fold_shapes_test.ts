/** Shape arithmetic folded from probed shapes; Identity chains followed (src/onnx/fold_shapes.ts). */
import assert from "node:assert/strict";
import { Graph } from "../../src/onnx/graph.ts";
import type { ShapeMap, TensorInfo } from "../../src/onnx/shapes.ts";
import { assertGradients, caseModel, node } from "./fd.ts";
import { int64Tensor } from "../../src/onnx/tensor.ts";

/** torchvision shufflenet's `x.chunk(2, dim=1)`: bounds from Shape → Gather → Add → Div → Mul. */
const chunkNodes = [
  node("Shape", ["x"], ["shape"]),
  node("Gather", ["shape", "one"], ["c"], { axis: 0 }),
  node("Add", ["c", "one"], ["c1"]),
  node("Div", ["c1", "two"], ["half"]),
  node("Mul", ["half", "one"], ["end0"]),
  node("Unsqueeze", ["end0", "zeros"], ["ends"]),
  node("Slice", ["x", "starts", "ends", "axes"], ["y"]),
];
const chunkConstants = {
  one: { dims: [], int64: [1] },
  two: { dims: [], int64: [2] },
  zeros: { dims: [1], int64: [0] },
  starts: { dims: [1], int64: [0] },
  axes: { dims: [1], int64: [1] },
};

function shapesOf(entries: Record<string, [TensorInfo["type"], number[]]>): ShapeMap {
  return new Map(Object.entries(entries).map(([k, [type, dims]]) => [k, { type, dims }]));
}

Deno.test("Graph.constantValue() folds shape arithmetic once the input size is fixed", () => {
  const model = caseModel({
    nodes: chunkNodes,
    inputs: [{ name: "x", dims: ["N", 6, 2] }],
    constants: chunkConstants,
  });
  const shapes = shapesOf({ x: ["float32", [-1, 6, 2]], shape: ["int64", [3]] });
  assert.equal(new Graph(model).constantValue("ends"), undefined, "no folding without shapes");
  const graph = new Graph(model, shapes);
  assert.deepEqual(graph.constantValue("ends"), [3]);
  assert.deepEqual(graph.constantValue("c"), [6]);
  // The batch dimension is not fixed: Shape(x)[0] and the whole shape have no value.
  assert.equal(graph.constantValue("shape"), undefined);
});

Deno.test("Graph.constantValue() keeps the batch dimension unknown through arithmetic", () => {
  const model = caseModel({
    nodes: [
      node("Shape", ["x"], ["shape"]),
      node("Gather", ["shape", "zero"], ["n"], { axis: 0 }),
      node("Mul", ["n", "two"], ["n2"]),
      node("Unsqueeze", ["n2", "zeros"], ["n2v"]),
      node("Concat", ["n2v", "minus1"], ["target"], { axis: 0 }),
      node("Reshape", ["x", "target"], ["y"]),
    ],
    inputs: [{ name: "x", dims: ["N", 4] }],
    constants: {
      zero: { dims: [], int64: [0] },
      two: { dims: [], int64: [2] },
      zeros: { dims: [1], int64: [0] },
      minus1: { dims: [1], int64: [-1] },
    },
  });
  const graph = new Graph(model, shapesOf({ x: ["float32", [-1, 4]], shape: ["int64", [2]] }));
  assert.equal(graph.constantValue("n2"), undefined);
  assert.equal(graph.constantValue("target"), undefined);
});

Deno.test("Graph.constantValue() follows Identity chains to initializers", () => {
  const model = caseModel({
    nodes: [node("Identity", ["w"], ["w1"]), node("Identity", ["w1"], ["w2"])],
    inputs: [{ name: "x", dims: ["N", 2] }],
    constants: { w: { dims: [2], float: [0.5, 2] } },
  });
  const graph = new Graph(model, new Map());
  assert.deepEqual([...graph.constantValue("w2") as Float32Array], [0.5, 2]);
});

Deno.test("Slice with folded bounds is differentiable (shufflenet's channel chunk)", async () => {
  await assertGradients({
    nodes: chunkNodes,
    inputs: [{ name: "x", dims: ["N", 6, 2] }],
    constants: chunkConstants,
  });
});

Deno.test("BatchNormalization with scale and variance behind Identity is differentiable", async () => {
  await assertGradients({
    nodes: [
      node("Identity", ["scale"], ["scale_dup"]),
      node("Identity", ["var"], ["var_dup"]),
      node("BatchNormalization", ["x", "scale_dup", "bias", "mean", "var_dup"], ["y"]),
    ],
    inputs: [{ name: "x", dims: ["N", 2, 3] }],
    constants: {
      scale: { dims: [2], float: [1, 1.5] },
      bias: { dims: [2], float: [0, 0.1] },
      mean: { dims: [2], float: [0.2, -0.1] },
      var: { dims: [2], float: [1.2, 0.7] },
    },
  });
});

Deno.test("Graph.constantValue() folds torch's F.pad pads (Mod, reversed Slice, Transpose, Reshape)", () => {
  // pad_r = (7 − W mod 7) mod 7 on a [N, 10, C] map, pads laid out as torch.onnx exports them.
  const model = caseModel({
    nodes: [
      node("Shape", ["x"], ["shape"]),
      node("Gather", ["shape", "one"], ["w"], { axis: 0 }),
      node("Mod", ["w", "seven"], ["wm"], { fmod: 0 }),
      node("Sub", ["seven", "wm"], ["d"]),
      node("Mod", ["d", "seven"], ["padR"], { fmod: 0 }),
      node("Unsqueeze", ["padR", "zeros"], ["padRv"]),
      node("Concat", ["zero2", "padRv", "zero1"], ["p6"], { axis: 0 }),
      node("ConstantOfShape", ["two"], ["fill"], { value: int64Tensor("v", [1], [0]) }),
      node("Concat", ["p6", "fill"], ["p8"], { axis: 0 }),
      node("Reshape", ["p8", "pairs"], ["p42"]),
      node("Slice", ["p42", "minus1", "minInf", "zeros", "minus1"], ["rev"]),
      node("Transpose", ["rev"], ["t"], { perm: [1, 0] }),
      node("Reshape", ["t", "minus1"], ["flat"]),
      node("Cast", ["flat"], ["pads"], { to: 7 }),
    ],
    inputs: [{ name: "x", dims: ["N", 10, 3] }],
    constants: {
      one: { dims: [], int64: [1] },
      seven: { dims: [], int64: [7] },
      zeros: { dims: [1], int64: [0] },
      zero1: { dims: [1], int64: [0] },
      zero2: { dims: [2], int64: [0, 0] },
      two: { dims: [1], int64: [2] },
      pairs: { dims: [2], int64: [-1, 2] },
      minus1: { dims: [1], int64: [-1] },
      minInf: { dims: [1], int64: [-9007199254740991] },
    },
  });
  const graph = new Graph(model, shapesOf({ x: ["float32", [-1, 10, 3]], shape: ["int64", [3]] }));
  // p8 = [0, 0, 4, 0, 0, 0] → pairs [[0,0],[4,0],[0,0]] → reversed (the same) → transposed
  // [[0,4,0],[0,0,0]] → flattened [0, 4, 0, 0, 0, 0]: begin pads, then end pads.
  assert.deepEqual(graph.constantValue("padR"), [4]);
  assert.deepEqual(graph.constantValue("pads"), [0, 4, 0, 0, 0, 0]);
});
