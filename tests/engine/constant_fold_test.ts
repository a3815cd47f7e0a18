import assert from "node:assert/strict";
import { findConstantSubgraph, foldConstants } from "../../src/engine/constant_fold.ts";
import { Graph } from "../../src/onnx/graph.ts";
import { onnx, readModel, writeModel } from "../../src/onnx/proto.ts";
import { tensorValues } from "../../src/onnx/tensor.ts";
import { availableBackends, getRuntime } from "../../src/runtime/runtime.ts";
import type { HostTensor } from "../../src/runtime/types.ts";

const BIT = new URL("../fixtures/bit-tiny-fmnist/model.onnx", import.meta.url);
const bytes = await Deno.readFile(BIT);
const loads = await availableBackends(["wasm", "native"]);
const backends = (["wasm", "native"] as const).filter((b) => loads[b] === true);

function inputs(n: number): HostTensor {
  const data = new Float32Array(n * 3 * 32 * 32);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * 1.5;
  return { type: "float32", dims: [n, 3, 32, 32], data };
}

Deno.test("findConstantSubgraph() finds BiT's weight standardisation and nothing on the input's path", () => {
  const graph = new Graph(readModel(bytes));
  const sub = findConstantSubgraph(graph);
  const ops = new Set(sub.nodes.map((n) => n.opType));
  for (const op of ["ReduceMean", "Sub", "Mul", "Sqrt", "Div"]) assert.ok(ops.has(op), op);
  const onInputPath = graph.downstreamOf(graph.inputNames);
  assert.ok(sub.nodes.every((n) => !(n.output ?? []).some((o) => onInputPath.has(o))));
  // 23 standardised kernels feed a Conv; the zero-pad's pads (int64) are the 24th.
  const convWeights = new Set(
    graph.nodes.filter((n) => n.opType === "Conv").map((n) => n.input![1]),
  );
  assert.equal(sub.frontier.filter((t) => convWeights.has(t)).length, 23);
});

for (const backend of backends) {
  Deno.test(`foldConstants() kernels equal an unfolded ${backend} run's bit for bit`, async () => {
    const rt = await getRuntime(backend);
    const model = readModel(bytes);
    const folded = (await foldConstants(model, rt))!;
    const graph = new Graph(folded);
    assert.ok(!graph.nodes.some((n) => n.opType === "Sqrt" || n.opType === "ReduceMean"));
    const kernels = findConstantSubgraph(new Graph(model)).frontier.filter((t) =>
      graph.initializers.has(t)
    );
    assert.equal(kernels.length, 23);
    // The unfolded model with its kernels as outputs, optimisation off: the kernels as computed.
    const probe = onnx.ModelProto.create({
      ...model,
      graph: onnx.GraphProto.create({
        ...model.graph,
        output: [...model.graph!.output!, ...kernels.map((name) => ({ name }))],
      }),
    });
    const session = await rt.createSession(writeModel(probe), { oneOff: true });
    const out = await session.run({ input: inputs(1) });
    await session.release();
    for (const k of kernels) {
      const want = out[k].data as Float32Array;
      const got = tensorValues(graph.initializers.get(k)!) as Float32Array;
      assert.deepEqual(
        new Uint32Array(got.buffer, got.byteOffset, got.length),
        new Uint32Array(want.buffer, want.byteOffset, want.length),
        k,
      );
    }
  });

  Deno.test(`foldConstants() leaves ${backend} logits bit for bit as they were`, async () => {
    const rt = await getRuntime(backend);
    const folded = writeModel((await foldConstants(readModel(bytes), rt))!);
    const logits = async (m: Uint8Array, oneOff: boolean) => {
      const s = await rt.createSession(m, { oneOff });
      const y = (await s.run({ input: inputs(4) })).logits.data as Float32Array;
      await s.release();
      return Array.from(new Uint32Array(y.buffer, y.byteOffset, y.length));
    };
    for (const oneOff of [false, true]) {
      assert.deepEqual(
        await logits(folded, oneOff),
        await logits(bytes, oneOff),
        `oneOff ${oneOff}`,
      );
    }
  });
}

Deno.test("foldConstants() returns undefined for a model without constant sub-graphs", async () => {
  const plain = await Deno.readFile(
    new URL("../../models/fmnist-wrn40/model.onnx", import.meta.url),
  );
  assert.equal(await foldConstants(readModel(plain), await getRuntime("wasm")), undefined);
});
