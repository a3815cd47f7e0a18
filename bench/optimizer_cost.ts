/**
 * `deno run -A bench/optimizer_cost.ts [--backends native,wasm] [--batches 1,8] [--out file]`:
 * what turning off onnxruntime's `Pad_Fusion` costs the forward pass. Per model, backend and
 * batch, three sessions of the same model are timed in alternation: onnxruntime's stock level
 * "all" (with the fusion that changes BiT's numbers), the product's options (level "all" minus
 * `Pad_Fusion`, src/runtime/optimization.ts) and optimisation "disabled". Writes JSON under
 * bench/results/ and prints a markdown table of ms per image (median).
 * @module
 */
import { parseArgs } from "node:util";
import { getRuntime, loadedBackends } from "../src/runtime/runtime.ts";
import { optimizationOptions } from "../src/runtime/optimization.ts";
import type { BackendName } from "../src/contract/backends.ts";
import { readModel } from "../src/onnx/proto.ts";
import { hostInfo } from "./host.ts";
import { FULL_PLAN, summarize, timeInterleaved } from "./stats.ts";

/** Models with the Pad(0)→MaxPool root (BiT / ResNetV2) and one without (WRN-40-2). */
const MODELS: Record<string, string> = {
  "bit-tiny": "models/bit-tiny-fmnist/model.onnx",
  "authors-resnetv2": "out/authors-resnetv2/model.onnx", // tools/authors_resnetv2/make_fixture.py
  "wrn40-2": "models/fmnist-wrn40/model.onnx",
};

/** The three option sets compared, by label. */
const VARIANTS = {
  stock: { graphOptimizationLevel: "all" as const },
  product: optimizationOptions("product"),
  disabled: optimizationOptions("disabled"),
};

interface Row {
  model: string;
  backend: BackendName;
  batch: number;
  msPerImage: Record<keyof typeof VARIANTS, number>;
  runs: number;
}

async function measure(model: string, backend: BackendName, batch: number): Promise<Row> {
  const bytes = await Deno.readFile(MODELS[model]);
  const g = readModel(bytes, model).graph!;
  const input = g.input![0];
  const dims = input.type!.tensorType!.shape!.dim!.slice(1).map((d) => Number(d.dimValue));
  const lb = loadedBackends.get(await getRuntime(backend))!;
  const data = new Float32Array(batch * dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37);
  const feeds = { [input.name!]: new lb.ort.Tensor("float32", data, [batch, ...dims]) };
  const sessions = [];
  for (const opts of Object.values(VARIANTS)) {
    sessions.push(
      await lb.ort.InferenceSession.create(bytes, {
        executionProviders: [...lb.executionProviders],
        enableMemPattern: false,
        ...lb.sessionOptions,
        ...opts,
      } as never),
    );
  }
  const times = await timeInterleaved(
    sessions.map((s) => async () => void await s.run(feeds)),
    FULL_PLAN,
  );
  for (const s of sessions) await s.release();
  const ms = times.map((t) => summarize(t, batch).msPerImageP50);
  return {
    model,
    backend,
    batch,
    msPerImage: { stock: ms[0], product: ms[1], disabled: ms[2] },
    runs: times[0].length,
  };
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      backends: { type: "string", default: "native,wasm" },
      batches: { type: "string", default: "1,8" },
      models: { type: "string", default: Object.keys(MODELS).join(",") },
      out: { type: "string" },
    },
  });
  const backends = values.backends.split(",") as BackendName[];
  const host = await hostInfo(backends);
  const rows: Row[] = [];
  console.log("| model | backend | batch | stock ms/img | product ms/img | disabled ms/img |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const model of values.models.split(",")) {
    for (const backend of backends) {
      for (const batch of values.batches.split(",").map(Number)) {
        const r = await measure(model, backend, batch);
        rows.push(r);
        const m = r.msPerImage;
        console.log(
          `| ${model} | ${backend} | ${batch} | ${m.stock.toFixed(2)} | ${m.product.toFixed(2)} | ${
            m.disabled.toFixed(2)
          } |`,
        );
      }
    }
  }
  const out = values.out ?? `bench/results/optimizer-cost-${host.date.slice(0, 10)}.json`;
  await Deno.writeTextFile(out, JSON.stringify({ host, variants: VARIANTS, rows }, null, 2));
  console.log(`wrote ${out}`);
}

if (import.meta.main) await main();
