/**
 * The classifiers the benchmark runs.
 * @module
 */
import { readModel } from "../src/onnx/proto.ts";
import { declaredDims } from "../src/onnx/input_dims.ts";
import type { BenchModel } from "./workload.ts";
import { ZOO_ARCHS } from "../tools/zoo/archs.ts";

/** Benchmark model names → files relative to the repository root. */
export const MODEL_FILES: Record<string, string> = {
  /** The default model: the fixture's Wide-ResNet-40-2 (2.2 M parameters). */
  "wrn40-2": "models/fmnist-wrn40/model.onnx",
  /** CIFAR ResNet-18 at 1/4 width (0.7 M parameters), committed. */
  "resnet18-w16": "bench/models/resnet18-w16.onnx",
  /** Standard CIFAR ResNet-18 (11.2 M parameters, 45 MB): generate with make_resnet.py. */
  "resnet18": "out/resnet18.onnx",
  /** torchvision ResNet-50, random weights, 224×224 (25.6 M parameters, 100 MB): generated. */
  "resnet50": "bench/models/gen/resnet50/model.onnx",
  /** torchvision MobileNetV2, random weights, 224×224 (3.5 M parameters, 14 MB): generated. */
  "mobilenet_v2": "bench/models/gen/mobilenet_v2/model.onnx",
  // The torchvision zoo (tools/zoo/): `zoo/<arch>`, random weights, exported by the sweep.
  ...Object.fromEntries(ZOO_ARCHS.map((a) => [`zoo/${a}`, `out/zoo/${a}.onnx`])),
};

/** Models the benchmark runs when none are named (the zoo only when asked for). */
export const DEFAULT_MODELS: readonly string[] = Object.keys(MODEL_FILES).filter((m) =>
  !m.startsWith("zoo/")
);

/** 224-pixel ImageNet architectures: scored with the A variant's last-normalization splits. */
export const IMAGENET_MODELS: ReadonlySet<string> = new Set([
  "resnet50",
  "mobilenet_v2",
  ...ZOO_ARCHS.map((a) => `zoo/${a}`),
]);

/** How to make a model file that is not committed. */
const HINTS: Record<string, string> = {
  resnet18: "/usr/bin/python3 bench/models/make_resnet.py --width 64 --out out/resnet18.onnx",
  resnet50: "deno task bench:models",
  mobilenet_v2: "deno task bench:models",
  ...Object.fromEntries(
    ZOO_ARCHS.map((a) => [
      `zoo/${a}`,
      `/usr/bin/python3 tools/zoo/export.py out/zoo tests/fixtures/zoo/photos ${a}`,
    ]),
  ),
};

const ROOT = new URL("../", import.meta.url);

/**
 * Loads a benchmark model by name. A missing file is an error when the model was asked for,
 * and a skip (undefined, with a note) when it was only a default.
 */
export async function loadModel(name: string, optional: boolean): Promise<BenchModel | undefined> {
  const rel = MODEL_FILES[name];
  if (!rel) throw new Error(`Unknown model "${name}"; use one of ${Object.keys(MODEL_FILES)}`);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(new URL(rel, ROOT));
  } catch (e) {
    const hint = HINTS[name] ? ` (generate: ${HINTS[name]})` : "";
    if (!optional) throw new Error(`Cannot read model "${name}" at ${rel}${hint}`, { cause: e });
    console.log(`  skipped model ${name}: ${rel} not found${hint}`);
    return undefined;
  }
  const model = readModel(bytes, rel);
  const inits = new Set((model.graph!.initializer ?? []).map((t) => t.name));
  const input = (model.graph!.input ?? []).find((i) => !inits.has(i.name));
  const dims = input?.name ? declaredDims(model, input.name)?.slice(1) ?? [] : [];
  if (!input?.name || dims.length !== 3 || dims.some((d) => d === undefined)) {
    throw new Error(`Model "${name}" needs one [N, C, H, W] input with fixed C, H, W`);
  }
  return {
    name,
    path: rel,
    bytes,
    inputName: input.name,
    inputDims: dims as [number, number, number],
    family: IMAGENET_MODELS.has(name) ? "imagenet" : "cifar",
  };
}
