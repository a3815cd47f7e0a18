import assert from "node:assert/strict";
import { declaredDims, staticBatch } from "../../src/onnx/input_dims.ts";
import { readModel } from "../../src/onnx/proto.ts";

// tests/fixtures/tiny/README.md: input `input` [N, 3, 16, 16]; `static` files fix N to 1.
const tiny = async (name: string) =>
  readModel(await Deno.readFile(`tests/fixtures/tiny/${name}.onnx`), name);

Deno.test("declaredDims() reads fixed dims and leaves symbolic ones undefined", async () => {
  assert.deepEqual(declaredDims(await tiny("cnn-op17-bn-dyn"), "input"), [undefined, 3, 16, 16]);
  assert.deepEqual(declaredDims(await tiny("cnn-op13-bn-static"), "input"), [1, 3, 16, 16]);
  assert.equal(declaredDims(await tiny("cnn-op13-bn-static"), "nope"), undefined);
});

Deno.test("staticBatch() is the batch size of fixed-batch exports only", async () => {
  assert.equal(staticBatch(await tiny("cnn-op13-bn-static"), "input"), 1);
  assert.equal(staticBatch(await tiny("groupnorm-op17-static"), "input"), 1);
  assert.equal(staticBatch(await tiny("cnn-op17-bn-dyn"), "input"), undefined);
});
