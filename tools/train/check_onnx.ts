/**
 * Checks an exported classifier: opset, BatchNormalization nodes kept, input/output names and a
 * dynamic batch dimension, then runs it with batch 2 on the wasm backend.
 *
 *   deno run -A tools/train/check_onnx.ts /tmp/wrn/model.onnx [expected BN count]
 * @module
 */
import { opsetOf, readModel } from "../../src/onnx/proto.ts";
import { getRuntime } from "../../src/runtime/runtime.ts";
import { f32 } from "../../src/runtime/types.ts";

const [path, expectedBn] = Deno.args;
if (!path) {
  console.error("usage: check_onnx.ts <model.onnx> [expected BatchNormalization count]");
  Deno.exit(2);
}
const bytes = await Deno.readFile(path);
const model = readModel(bytes, path);
const graph = model.graph!;
const ops: Record<string, number> = {};
for (const n of graph.node ?? []) ops[n.opType ?? "?"] = (ops[n.opType ?? "?"] ?? 0) + 1;
const input = graph.input?.[0];
const dims = input?.type?.tensorType?.shape?.dim ?? [];
const shape = dims.map((d) => d.dimParam || Number(d.dimValue ?? 0));
const problems: string[] = [];
if (opsetOf(model) !== 17) problems.push(`opset is ${opsetOf(model)}, expected 17`);
if (input?.name !== "input") problems.push(`input is named "${input?.name}", expected "input"`);
if (graph.output?.[0]?.name !== "logits") problems.push(`output is not named "logits"`);
if (typeof shape[0] !== "string") problems.push(`batch dimension is fixed (${shape[0]})`);
const bn = ops.BatchNormalization ?? 0;
if (bn === 0) problems.push("no BatchNormalization nodes: they were folded into Conv");
if (expectedBn && bn !== Number(expectedBn)) {
  problems.push(`${bn} BatchNormalization nodes, expected ${expectedBn}`);
}

const [c, h, w] = shape.slice(1) as number[];
const rt = await getRuntime("wasm");
const session = await rt.createSession(bytes);
const out = await session.run({ input: f32(new Float32Array(2 * c * h * w), [2, c, h, w]) });
const logits = out.logits;
if (logits.dims[0] !== 2) problems.push(`batch of 2 gave logits of shape [${logits.dims}]`);
await session.release();

console.log(
  JSON.stringify({ path, opset: opsetOf(model), input: shape, ops, logits: logits.dims }),
);
if (problems.length) {
  console.error(problems.map((p) => `${path}: ${p}`).join("\n"));
  Deno.exit(1);
}
console.log("ok");
