/** `deno task compile`: the service's compile path, split policies, written graph, clear errors. */
import assert from "node:assert/strict";
import { compile, type CompileOptions, parseCompileArgs } from "../../src/cli/compile.ts";
import { DEFAULT_SETTINGS } from "../../src/contract/scoring.ts";
import { SiEngine } from "../../src/engine/engine.ts";
import { readModel, writeModel } from "../../src/onnx/proto.ts";
import { caseModel, node } from "./fd.ts";

const MODEL = "tests/fixtures/tiny/cnn-op17-bn-dyn.onnx";

const args = (argv: string[]): CompileOptions => ({ ...parseCompileArgs(argv)!, backend: "wasm" });

Deno.test("compile summarizes ops, split policies and emitted nodes, and writes the scoring graph", async () => {
  const out = await Deno.makeTempDir();
  try {
    const s = await compile(args([MODEL, "--out", out]));
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
    const policies = s.policies as Record<string, string[]>;
    assert.deepEqual(policies.normalization, splits.map((x) => x.tensor));
    assert.equal(policies["normalization+pool"].length, 3);
    const emitted = s.emitted as { nodes: number; ops: Record<string, number> };
    assert.ok(emitted.ops.ConvTranspose >= 1, "strided Conv");
    const written = await Deno.readFile(s.written as string);
    assert.deepEqual(readModel(written).graph!.output!.map((o) => o.name), [
      "score",
      "class",
      "confidence",
      "layers",
      "fractions",
      "energy",
    ]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("compile writes exactly the graph the scoring engine compiles", async () => {
  const out = await Deno.makeTempDir();
  try {
    const s = await compile(args([MODEL, "--out", out, "--alpha", "0.01", "--iterations", "3"]));
    const engine = await SiEngine.create({
      modelBytes: await Deno.readFile(MODEL),
      backend: "wasm",
      inputDims: (s.input as { dims: number[] }).dims.slice(1) as [number, number, number],
      splitPolicy: { kind: "normalization" },
    });
    const expected = engine.compile({ ...DEFAULT_SETTINGS, alpha: 0.01, iterations: 3 });
    assert.deepEqual(await Deno.readFile(s.written as string), new Uint8Array(expected));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("compile split policies: normalization+pool, explicit names, unknown names", async () => {
  const base = {
    model: "tests/fixtures/tiny/mobile-op17-folded-dyn.onnx",
    backend: "wasm" as const,
    settings: DEFAULT_SETTINGS,
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
  await assert.rejects(
    compile({ ...base, splits: "nope" }),
    /Cannot use split tensor "nope": the model has no node output of that name/,
  );
});

Deno.test("compile fails clearly on unreadable files and unsupported ops", async () => {
  await assert.rejects(
    compile({
      model: "tests/fixtures/tiny/missing.onnx",
      splits: "normalization",
      backend: "wasm",
      settings: DEFAULT_SETTINGS,
    }),
    /Cannot read "tests\/fixtures\/tiny\/missing.onnx"/,
  );
  assert.throws(() => parseCompileArgs([]), /expected exactly one <model.onnx>/);
  assert.throws(() => parseCompileArgs([MODEL, "--iterations", "20"]), /--iterations: expected/);
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/sin.onnx`;
    const m = caseModel({
      nodes: [node("Conv", ["x", "w"], ["c"]), node("Sin", ["c"], ["y"])],
      inputs: [{ name: "x", dims: ["N", 1, 3, 3] }],
      constants: { w: { dims: [1, 1, 1, 1], float: [2] } },
    });
    await Deno.writeFile(file, writeModel(m));
    await assert.rejects(
      compile({
        model: file,
        splits: "normalization",
        backend: "wasm",
        settings: DEFAULT_SETTINGS,
      }),
      /No gradient rule for op "Sin".*supported ops: /,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
