/** `deno task compile`: summary, split policies, written model, clear errors. */
import assert from "node:assert/strict";
import { compile, parseCompileArgs } from "../../src/cli/compile.ts";
import { readModel, writeModel } from "../../src/onnx/proto.ts";
import { caseModel, node } from "./fd.ts";

const MODEL = "tests/fixtures/tiny/cnn-op17-bn-dyn.onnx";

Deno.test("compile summarizes ops, candidate splits and emitted nodes, and writes the model", async () => {
  const out = await Deno.makeTempDir();
  try {
    const s = await compile({ ...parseCompileArgs([MODEL, "--out", out]), backend: "wasm" });
    assert.deepEqual(s.ops, {
      AveragePool: 1,
      BatchNormalization: 2,
      Constant: 1,
      Conv: 2,
      Flatten: 1,
      Gemm: 1,
      MaxPool: 1,
      Pad: 1,
      Relu: 2,
    });
    const splits = s.splits as { tensor: string; dims: number[] }[];
    assert.deepEqual(splits.map((x) => x.tensor), [
      "/bn1/BatchNormalization_output_0",
      "/bn2/BatchNormalization_output_0",
    ]);
    assert.deepEqual(splits[0].dims, [-1, 8, 16, 16]);
    const candidates = s.candidates as { kind: string }[];
    assert.deepEqual(candidates.map((c) => c.kind), [
      "conv",
      "normalization",
      "conv",
      "normalization",
    ]);
    const emitted = s.emitted as { nodes: number; ops: Record<string, number> };
    assert.ok(
      emitted.ops.ConvTranspose >= 1 && emitted.ops.ArgMax === 1,
      "MaxPool and strided Conv",
    );
    const written = readModel(await Deno.readFile(s.written as string));
    assert.ok(
      written.graph!.output!.some((o) => o.name === "grad:/bn1/BatchNormalization_output_0"),
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("compile split policies: normalization+pool, explicit names, unknown names", async () => {
  const base = {
    model: "tests/fixtures/tiny/mobile-op17-folded-dyn.onnx",
    backend: "wasm" as const,
  };
  // Folded BatchNorm: the normalization policy falls back to Conv outputs.
  const folded = await compile({ ...base, splits: "normalization" });
  assert.equal((folded.splits as unknown[]).length, 5);
  const pooled = await compile({ ...base, splits: "normalization+pool" });
  assert.equal(
    (pooled.splits as { tensor: string }[]).at(-1)!.tensor,
    "/GlobalAveragePool_output_0",
  );
  const named = await compile({ ...base, splits: "/pw/Conv_output_0, /stem/Conv_output_0" });
  assert.equal((named.splits as unknown[]).length, 2);
  await assert.rejects(compile({ ...base, splits: "nope" }), /No tensor named "nope"/);
});

Deno.test("compile fails clearly on unreadable files and unsupported ops", async () => {
  await assert.rejects(
    compile({
      model: "tests/fixtures/tiny/missing.onnx",
      splits: "normalization",
      backend: "wasm",
    }),
    /Cannot read "tests\/fixtures\/tiny\/missing.onnx"/,
  );
  assert.throws(() => parseCompileArgs([]), /usage: deno task compile/);
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/erf.onnx`;
    const m = caseModel({
      nodes: [node("Conv", ["x", "w"], ["c"]), node("Erf", ["c"], ["y"])],
      inputs: [{ name: "x", dims: ["N", 1, 3, 3] }],
      constants: { w: { dims: [1, 1, 1, 1], float: [2] } },
    });
    await Deno.writeFile(file, writeModel(m));
    await assert.rejects(
      compile({ model: file, splits: "normalization", backend: "wasm" }),
      /No gradient rule for op "Erf".*supported ops: /,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
