/** Element types outside the runtime's set fail by name instead of being read as float32. */
import assert from "node:assert/strict";
import { onnx, readModel } from "../../src/onnx/proto.ts";
import { getRuntime } from "../../src/runtime/runtime.ts";
import { probeShapes } from "../../src/runtime/shapes.ts";
import { floatInfo, model } from "./tiny_graph.ts";

/** y = Cast(x, to) with y declared as that element type. */
function castModel(to: number): Uint8Array {
  return model({
    name: "cast",
    node: [{
      opType: "Cast",
      input: ["x"],
      output: ["y"],
      name: "cast",
      attribute: [
        { name: "to", type: onnx.AttributeProto.AttributeType.INT, i: to },
      ],
    }],
    input: [floatInfo("x", [-1, 2])],
    output: [{
      name: "y",
      type: { tensorType: { elemType: to, shape: { dim: [{ dimParam: "N" }, { dimValue: 2 }] } } },
    }],
  });
}

const X = { type: "float32" as const, dims: [1, 2], data: new Float32Array([1.5, -2]) };

for (const [to, name] of [[10, "float16"], [11, "float64"]] as const) {
  Deno.test(`GraphSession.run() rejects a ${name} output by name`, async () => {
    const rt = await getRuntime("wasm");
    const s = await rt.createSession(castModel(to));
    try {
      await assert.rejects(() => s.run({ x: X }), new RegExp(`"y" has element type ${name}`));
    } finally {
      await s.release();
    }
  });
}

Deno.test("probeShapes() names a double initializer instead of calling it float32", async () => {
  const bytes = model({
    name: "dbl",
    node: [
      {
        opType: "Cast",
        input: ["c"],
        output: ["cf"],
        name: "cast",
        attribute: [
          { name: "to", type: onnx.AttributeProto.AttributeType.INT, i: 1 },
        ],
      },
      { opType: "Add", input: ["x", "cf"], output: ["y"], name: "add" },
    ],
    initializer: [{ name: "c", dataType: 11, dims: [2], doubleData: [1, 2] }],
    input: [floatInfo("x", [-1, 2])],
    output: [floatInfo("y", [-1, 2])],
  });
  const rt = await getRuntime("wasm");
  await assert.rejects(
    () => probeShapes(readModel(bytes), rt, [2]),
    /Tensor "c" has element type double, which the compiler does not handle/,
  );
});
