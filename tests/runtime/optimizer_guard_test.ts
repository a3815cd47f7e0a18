/**
 * The differential optimizer guard: onnxruntime's graph optimisation must not change what the
 * product computes. For every model the tests and the benchmark use, every graph the engine
 * runs (the forward pass and each method's compiled scoring graph) is run on real photos
 * with the product's optimisation and with none, on native and wasm; every output must agree
 * within 1e-5 relative (elements under 10 % of a tensor's largest magnitude against that scale).
 *
 * Where two unoptimised float32 evaluations already disagree by more — native and wasm with
 * optimisation disabled, which sum in different orders — the bound is twice that disagreement:
 * the A variant's per-channel components are means of gradients that cancel (measured: 3.7e-4
 * between native and wasm on the tiny BiT), and the mask fractions of S&I-Z/GAIA-Z are counts
 * that flip where a gradient is within rounding of zero.
 * An optimiser bug such as the Pad→MaxPool fold moved the tiny BiT's logits by 1.6e-3 while the
 * two backends agreed to 1e-6.
 *
 * WebGPU (where an adapter exists; llvmpipe in CI) runs the tiny BiT's forward, S&I-A and energy
 * graphs only: the BiT root is where the fold struck, and the software adapter is slow.
 *
 * `GUARD_MODELS` (comma-separated model folders with a manifest) adds models too slow for CI, such
 * as the 224-pixel benchmark models that `deno task bench:models` generates.
 *
 * A 3-node Pad(0)→MaxPool graph pins onnxruntime's current behaviour: its stock level "all"
 * pads with −∞ (wrong), the product's options do not. When an onnxruntime upgrade fixes the
 * fold, the first test fails and says so.
 */
import assert from "node:assert/strict";
import { getRuntime, loadedBackends } from "../../src/runtime/runtime.ts";
import { optimizationOptions } from "../../src/runtime/optimization.ts";
import type { BackendName } from "../../src/contract/backends.ts";
import { floatTensor, int64Tensor, makeAttrs } from "../../src/onnx/tensor.ts";
import { floatInfo, model } from "./tiny_graph.ts";
import { tinyModel } from "../si/tiny_model.ts";
import {
  assertOptimizationNeutral,
  bareModel,
  bundledModel,
  difference,
  engineGraphs,
  type GuardModel,
  photoBatch,
  runGraph,
  violation,
} from "./optimizer_guard.ts";

/** x [1,1,4,4] → Pad(0, 1 pixel) → MaxPool(3, stride 2) → y [1,1,2,2]. */
function padMaxPool(): Uint8Array {
  return model({
    name: "pad_maxpool",
    node: [
      { opType: "Pad", input: ["x", "pads", "zero"], output: ["p"], name: "pad" },
      {
        opType: "MaxPool",
        input: ["p"],
        output: ["y"],
        name: "pool",
        attribute: makeAttrs({ kernel_shape: [3, 3], strides: [2, 2] }),
      },
    ],
    initializer: [
      int64Tensor("pads", [8], [0, 0, 1, 1, 0, 0, 1, 1]),
      floatTensor("zero", [], [0]),
    ],
    input: [floatInfo("x", [1, 1, 4, 4])],
    output: [floatInfo("y", [1, 1, 2, 2])],
  });
}

/** Runs the Pad→MaxPool graph on all −1 input with raw onnxruntime session options. */
async function padMaxPoolOutput(backend: BackendName, options: object): Promise<number[]> {
  const lb = loadedBackends.get(await getRuntime(backend))!;
  const session = await lb.ort.InferenceSession.create(padMaxPool(), {
    executionProviders: [...lb.executionProviders],
    ...lb.sessionOptions,
    ...options,
  });
  const x = new lb.ort.Tensor("float32", new Float32Array(16).fill(-1), [1, 1, 4, 4]);
  const out = await session.run({ x });
  await session.release();
  return Array.from(out.y.data as Float32Array);
}

const webgpu = await getRuntime("webgpu").then(() => true, () => false);

for (const backend of ["native", "wasm", "webgpu"] as const) {
  Deno.test({
    name: `onnxruntime's Pad_Fusion still pads a Pad(0)→MaxPool with −∞ on ${backend}`,
    ignore: backend === "webgpu" && !webgpu,
    async fn() {
      // Zero padding: the three windows that touch the border see a 0 and return it.
      const exact = [0, 0, 0, -1];
      assert.deepEqual(
        await padMaxPoolOutput(backend, { graphOptimizationLevel: "disabled" }),
        exact,
      );
      assert.deepEqual(await padMaxPoolOutput(backend, optimizationOptions("product")), exact);
      const stock = await padMaxPoolOutput(backend, { graphOptimizationLevel: "all" });
      assert.deepEqual(
        stock,
        [-1, -1, -1, -1],
        `onnxruntime's stock level "all" now gives [${stock}]: if that is [${exact}], the ` +
          `Pad→MaxPool fold is fixed and "Pad_Fusion" can leave DISABLED_OPTIMIZERS ` +
          `(src/runtime/optimization.ts) once the guard below passes without it`,
      );
    },
  });
}

/** Every model the tests and the benchmark run, with real-photo pre-processing for each. */
const MODELS: [string, () => Promise<GuardModel>][] = [
  ["models/bit-tiny-fmnist", () => bundledModel("models/bit-tiny-fmnist")],
  ["models/fmnist-wrn40", () => bundledModel("models/fmnist-wrn40")],
  [
    "tests/fixtures/wrn40-fmnist/model.folded.onnx",
    () => bundledModel("models/fmnist-wrn40", "tests/fixtures/wrn40-fmnist/model.folded.onnx"),
  ],
  [
    "bench/models/resnet18-w16.onnx",
    () => bareModel("bench/models/resnet18-w16.onnx", [3, 32, 32]),
  ],
  ...[...Deno.readDirSync(new URL("../fixtures/tiny/", import.meta.url))]
    .map((e) => e.name).filter((n) => n.endsWith(".onnx")).sort()
    .map((n): [string, () => Promise<GuardModel>] => [
      `tests/fixtures/tiny/${n}`,
      () => bareModel(`tests/fixtures/tiny/${n}`, [3, 16, 16]),
    ]),
  ...(["residual", "parallel", "input-shape"] as const).map((v): [
    string,
    () => Promise<GuardModel>,
  ] => [`tinyModel("${v}")`, () => bareModel(`tinyModel:${v}`, [3, 8, 8], tinyModel(1, v))]),
  // Opt-in, for models too slow for CI (e.g. the 224-pixel benchmark models of
  // `deno task bench:models`): GUARD_MODELS=bench/models/gen/resnet50,bench/models/gen/mobilenet_v2
  ...(Deno.env.get("GUARD_MODELS") ?? "").split(",").filter(Boolean)
    .map((dir): [string, () => Promise<GuardModel>] => [dir, () => bundledModel(dir)]),
];

for (const [name, load] of MODELS) {
  Deno.test(`optimisation changes no graph the engine runs on ${name}`, async () => {
    console.log(await assertOptimizationNeutral(await load(), name.includes("wrn40") ? 2 : 4));
  });
}

Deno.test({
  name: "optimisation changes no BiT graph the engine runs on webgpu",
  ignore: !webgpu,
  async fn() {
    const m = await bundledModel("models/bit-tiny-fmnist");
    const { graphs } = await engineGraphs(m);
    const input = await photoBatch(m, 2);
    const gpu = await getRuntime("webgpu"), native = await getRuntime("native");
    for (const g of graphs.filter((g) => ["forward", "si_a", "energy"].includes(g.label))) {
      const disabled = await runGraph(gpu, g.bytes, input, "disabled");
      const noise = difference(disabled, await runGraph(native, g.bytes, input, "disabled"));
      const rows = difference(await runGraph(gpu, g.bytes, input, "product"), disabled);
      const failed = violation(rows, noise, `${g.label} on webgpu:`);
      assert.equal(failed, undefined, failed);
    }
  },
});
