/**
 * The differential optimizer guard's machinery: the models the tests and the benchmark use, a
 * batch of real photographs pre-processed for each, every graph the engine runs on a model (the
 * forward pass and each method's compiled scoring graph), and a comparison of one graph's outputs
 * between the product's optimisation (src/runtime/optimization.ts) and none.
 * @module
 */
import assert from "node:assert/strict";
import { getRuntime } from "../../src/runtime/runtime.ts";
import { readManifest } from "../../src/models/loader.ts";
import { decodeImage } from "../../src/image/decode.ts";
import { createPreprocessor, type Preprocessor } from "../../src/image/preprocess.ts";
import type { PreprocessSpec } from "../../src/image/spec.ts";
import { METHODS, type SplitPolicy, splitPolicyOf } from "../../src/contract/scoring.ts";
import { ALPHA_INPUT } from "../../src/si/compile.ts";
import { SiEngine } from "../../src/engine/engine.ts";
import type { HostTensor, OptimizationChoice, Runtime } from "../../src/runtime/types.ts";

const ROOT = new URL("../../", import.meta.url);
const PHOTOS = new URL("tests/fixtures/photos/", ROOT);
/** The photographs every model is fed (tests/fixtures/photos/README.md). */
export const PHOTO_FILES = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.png"];

/** A model under guard: its bytes, input size, split policy and pre-processing. */
export interface GuardModel {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly inputDims: readonly [number, number, number];
  readonly splitPolicy: SplitPolicy;
  readonly preprocess: Preprocessor;
}

/**
 * A model folder with a manifest (models/*): its own pre-processing and split policy; `file`
 * (relative to the repository) replaces its ONNX file, e.g. by a test fixture of the same model.
 */
export async function bundledModel(dir: string, file?: string): Promise<GuardModel> {
  const path = new URL(dir, ROOT).pathname;
  const m = await readManifest(path);
  return {
    name: file ?? dir,
    bytes: await Deno.readFile(file ? new URL(file, ROOT) : `${path}/${m.model.file}`),
    inputDims: [m.input.channels, m.input.height, m.input.width],
    splitPolicy: splitPolicyOf(m),
    preprocess: createPreprocessor(m.preprocess, m.input),
  };
}

/**
 * A bare ONNX file: RGB photos resized (shorter side) and center-cropped to its [3, H, W] input,
 * ImageNet statistics, the product's default split policy.
 */
export async function bareModel(
  file: string,
  inputDims: readonly [number, number, number],
  bytes?: Uint8Array,
): Promise<GuardModel> {
  const [channels, height, width] = inputDims;
  const spec: PreprocessSpec = {
    color: "rgb",
    background: 0,
    resize: { shorter: Math.max(height, width), method: "bilinear" },
    crop: { width, height },
    pad: { top: 0, right: 0, bottom: 0, left: 0, value: 0 },
    scale: 1 / 255,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    replicate: 1,
  };
  return {
    name: file,
    bytes: bytes ?? await Deno.readFile(new URL(file, ROOT)),
    inputDims,
    splitPolicy: { kind: "normalization+pool" },
    preprocess: createPreprocessor(spec, { layout: "NCHW", channels, height, width }),
  };
}

/**
 * The first `count` photographs through a model's pre-processing, as one `[N, C, H, W]` input
 * tensor.
 */
export async function photoBatch(
  model: GuardModel,
  count = PHOTO_FILES.length,
): Promise<HostTensor> {
  const per = model.inputDims.reduce((a, b) => a * b, 1);
  const files = PHOTO_FILES.slice(0, count);
  const data = new Float32Array(files.length * per);
  for (const [i, file] of files.entries()) {
    const bytes = await Deno.readFile(new URL(file, PHOTOS));
    const image = await decodeImage(bytes, file, { maxPixels: 1e6 });
    data.set(model.preprocess(image), i * per);
  }
  return { type: "float32", dims: [files.length, ...model.inputDims], data };
}

/** One graph the engine runs: a label and its serialized model. */
export interface EngineGraph {
  readonly label: string;
  readonly bytes: Uint8Array;
}

/**
 * Every graph the engine runs on a model: the forward pass and the compiled graph of each
 * method (`fused` runs its components' graphs, which are among these). A method the model
 * cannot have (e.g. `gradnorm` without a Gemm head) is listed in `skipped` with the reason.
 */
export async function engineGraphs(model: GuardModel): Promise<{
  runtime: Runtime;
  staticBatch?: number;
  graphs: EngineGraph[];
  skipped: string[];
}> {
  const engine = await SiEngine.create({
    modelBytes: model.bytes,
    backend: "native",
    inputDims: model.inputDims,
    splitPolicy: model.splitPolicy,
    compileInWorker: false,
  });
  const graphs: EngineGraph[] = [{ label: "forward", bytes: model.bytes }];
  const skipped: string[] = [];
  for (const method of METHODS.filter((m) => m !== "fused")) {
    const settings = { method, alpha: 0.001, iterations: 2, loss: "ce", integrate: "add" } as const;
    try {
      graphs.push({ label: method, bytes: engine.compile(settings) });
    } catch (e) {
      if (!(e instanceof Error && e.message.startsWith("Cannot compute"))) throw e;
      skipped.push(`${method}: ${e.message}`);
    }
  }
  return { runtime: engine.runtime, staticBatch: engine.staticBatch, graphs, skipped };
}

/** Outputs of one graph, by output name. */
export type Outputs = Record<string, HostTensor>;

/** Runs a graph once on a runtime with one optimisation choice. */
export async function runGraph(
  runtime: Runtime,
  bytes: Uint8Array,
  input: HostTensor,
  optimization: OptimizationChoice,
): Promise<Outputs> {
  const session = await runtime.createSession(bytes, { optimization });
  try {
    const feeds: Record<string, HostTensor> = { [session.inputNames[0]]: input };
    if (session.inputNames.includes(ALPHA_INPUT)) {
      feeds[ALPHA_INPUT] = { type: "float32", dims: [], data: new Float32Array([0.001]) };
    }
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/**
 * Elements below this fraction of a tensor's largest magnitude are compared to that scale: a
 * logit of −0.002 next to one of 4.2 carries float32 rounding of the large terms it was summed
 * from (1e-6 absolute between two unoptimised evaluations on the tiny BiT).
 */
export const SCALE_FLOOR = 0.1;

/** The largest difference between two evaluations of one output. */
export interface OutputDifference {
  readonly output: string;
  /**
   * max |a − b| / max(|b|, {@link SCALE_FLOOR} · max |b|) over the elements: relative error,
   * except for elements much smaller than the tensor's largest (cancelled sums such as the A
   * variant's per-channel components), which are held to the tensor's scale.
   */
  readonly relative: number;
  /** The element where it occurs and both values there. */
  readonly at: number;
  readonly a: number;
  readonly b: number;
}

/** Per output of `b`, the largest difference of `a` from it. */
export function difference(a: Outputs, b: Outputs): OutputDifference[] {
  return Object.keys(b).map((name) => {
    const p = a[name].data, d = b[name].data;
    let scale = 0;
    for (let i = 0; i < d.length; i++) scale = Math.max(scale, Math.abs(Number(d[i])));
    const floor = SCALE_FLOOR * scale;
    let worst = { relative: 0, at: -1, a: NaN, b: NaN };
    for (let i = 0; i < d.length; i++) {
      const x = Number(p[i]), y = Number(d[i]);
      const rel = x === y ? 0 : Math.abs(x - y) / Math.max(Math.abs(y), floor);
      if (!(rel <= worst.relative)) worst = { relative: rel, at: i, a: x, b: y };
    }
    return { output: name, ...worst };
  });
}

/** The relative agreement required where unoptimised evaluations agree. */
export const BOUND = 1e-5;

/** The first failure of one graph's outputs on one backend, or undefined. */
export function violation(
  rows: OutputDifference[],
  noise: OutputDifference[],
  where: string,
): string | undefined {
  for (const [i, r] of rows.entries()) {
    const bound = Math.max(BOUND, 2 * noise[i].relative);
    if (!(r.relative <= bound)) {
      return `${where} output "${r.output}" element ${r.at}: ${r.a} with the product's ` +
        `optimisation, ${r.b} without (${r.relative.toExponential(2)} > ${bound.toExponential(2)})`;
    }
  }
  return undefined;
}

/**
 * Runs every graph the engine runs on `m` (engineGraphs) on `images` photos with the product's
 * optimisation and with none, on native and wasm, and fails on the first output that differs by
 * more than {@link BOUND} (or twice the native-vs-wasm disagreement without optimisation).
 * Returns one line with the worst difference per graph and backend.
 */
export async function assertOptimizationNeutral(m: GuardModel, images: number): Promise<string> {
  const { graphs, staticBatch, skipped } = await engineGraphs(m);
  let input = await photoBatch(m, images);
  if (staticBatch) {
    const per = input.data.length / input.dims[0];
    input = {
      ...input,
      dims: [staticBatch, ...input.dims.slice(1)],
      data: input.data.slice(0, per * staticBatch),
    };
  }
  const native = await getRuntime("native"), wasm = await getRuntime("wasm");
  const worst: string[] = [];
  for (const g of graphs) {
    const nd = await runGraph(native, g.bytes, input, "disabled");
    const wd = await runGraph(wasm, g.bytes, input, "disabled");
    const noise = difference(wd, nd);
    for (const [rt, disabled] of [[native, nd], [wasm, wd]] as const) {
      const rows = difference(await runGraph(rt, g.bytes, input, "product"), disabled);
      const failed = violation(rows, noise, `${g.label} on ${rt.backend}:`);
      assert.equal(failed, undefined, failed);
      const top = rows.reduce((a, b) => (b.relative > a.relative ? b : a));
      worst.push(`${g.label}/${rt.backend} ${top.output} ${top.relative.toExponential(1)}`);
    }
  }
  return `${m.name}: ${worst.join(", ")}${skipped.length ? `; skipped ${skipped}` : ""}`;
}
