/**
 * `deno run -A bench/profile.ts [--model wrn40-2] [--batch 8] [--graph si|forward]`: where the
 * time of one run goes, per operator type, on the native backend (onnxruntime's profiler).
 * @module
 */
import { parseCommand } from "../src/cli/args.ts";
import { getRuntime } from "../src/runtime/runtime.ts";
import { profileOps } from "./lib/profile.ts";
import { ALPHA_INPUT } from "../src/si/compile.ts";
import { alphaIsGraphInput } from "../src/contract/methods.ts";
import { SiEngine } from "../src/engine/engine.ts";
import { DEFAULT_SETTINGS } from "../src/contract/scoring.ts";
import { loadModel } from "./models.ts";
import { benchInput } from "./workload.ts";

const { values } = parseCommand(Deno.args, {
  model: { type: "string", default: "wrn40-2" },
  batch: { type: "string", default: "8" },
  graph: { type: "string", default: "si" },
});
const model = (await loadModel(values.model, false))!;
const runtime = await getRuntime("native");
let bytes = model.bytes;
if (values.graph === "si") {
  const engine = await SiEngine.create({
    modelBytes: model.bytes,
    backend: "native",
    inputDims: model.inputDims,
    splitPolicy: { kind: "normalization+pool" },
  });
  bytes = engine.compile(DEFAULT_SETTINGS);
} else if (values.graph !== "forward") {
  throw new Error(`--graph must be "si" or "forward"`);
}
const batch = Number(values.batch);
const alpha = {
  type: "float32",
  dims: [],
  data: new Float32Array([DEFAULT_SETTINGS.alpha]),
} as const;
const p = await profileOps(runtime, bytes, {
  [model.inputName]: benchInput(batch, model.inputDims),
  ...(values.graph === "si" && alphaIsGraphInput(DEFAULT_SETTINGS) ? { [ALPHA_INPUT]: alpha } : {}),
});
console.log(
  `${model.name} ${values.graph} graph, batch ${batch}, native: run ${p.runMs.toFixed(1)} ms, ` +
    `kernels ${p.kernelMs.toFixed(1)} ms (${(p.runMs / batch).toFixed(1)} ms/image)\n`,
);
console.log("| op | ms | share | kernels |\n| --- | ---: | ---: | ---: |");
for (const o of p.ops.slice(0, 20)) {
  console.log(`| ${o.op} | ${o.ms.toFixed(1)} | ${(o.share * 100).toFixed(1)} % | ${o.count} |`);
}
Deno.exit(0);
