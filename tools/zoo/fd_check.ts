/**
 * Sampled finite-difference check of a model's compiled input-gradient graph, on photos:
 * `deno run -A tools/zoo/fd_check.ts <model.onnx> <model-dir> <photo-dir>` prints one JSON line
 * (tests/zoo/zoo_test.ts runs the same check in CI): the FD errors and, per photo, how far the
 * logits move when the input moves by one float32 ulp ({@link roundingSensitivity}).
 *
 * f(x) = Σ R·logits(x) with a fixed random R; g its compiled gradient at a photo. Along
 * v = g/|g|∞ (+ noise), the central difference f(x + hv) − f(x − hv) must match gᵀ(2hv).
 * The photo gets ±0.02 of uniform noise first: flat regions of an 8-bit photo give exactly equal
 * activations, so MaxPool windows hold exact ties where f is not differentiable (measured on
 * resnet18: 1.1 % FD error at every h down to 3e-5 on the raw photo, 5e-4 with the noise). The
 * remaining error comes from ReLU kinks crossed by the step (it shrinks with h) and float32
 * rounding (it grows as h shrinks).
 * @module
 */
import { createLazyScorer, SiEngine } from "../../src/engine/engine.ts";
import { gradientModel } from "../../bench/lib/gradient_model.ts";
import { readInputs } from "../../src/inputs/mod.ts";
import { mulberry32 } from "../../src/inputs/noise.ts";
import { loadModel } from "../../src/models/loader.ts";
import { readModel, writeModel } from "../../src/onnx/proto.ts";
import { getRuntime } from "../../src/runtime/runtime.ts";

/**
 * Steps tried, largest first. On ReLU networks whose BatchNorm statistics come from noise, many
 * pre-activations sit near 0 and a step crosses kinks: the error shrinks in proportion to h
 * (measured on regnet_x_400mf: 0.35, 0.083, 0.011, 0.0029 at h = 1e-3 … 1e-6), while a wrong
 * gradient leaves an error that does not shrink. The check keeps the best step.
 */
const STEPS = [1e-4, 1e-5, 1e-6];

/** Relative FD errors on the first `count` photos (the smallest over {@link STEPS}). */
export async function fdErrors(
  bytes: Uint8Array,
  photos: readonly Float32Array[],
  inputDims: readonly [number, number, number],
  count = 2,
): Promise<number[]> {
  const engine = await SiEngine.create({
    modelBytes: bytes,
    backend: "native",
    inputDims,
    splitPolicy: { kind: "normalization" },
  });
  const gm = gradientModel(readModel(bytes), engine.shapes, ["input"]);
  const session = await (await getRuntime("native")).createSession(writeModel(gm.model));
  const rand = mulberry32(5);
  const k = engine.shapes.get(gm.output)!.dims[1];
  const r = Float32Array.from({ length: k }, () => rand() * 2 - 1);
  const dims = [1, ...inputDims];
  const feeds = (v: Float32Array) => ({
    input: { type: "float32" as const, dims, data: v },
    [gm.seed]: { type: "float32" as const, dims: [1, k], data: r },
  });
  const f = async (v: Float32Array) => {
    const y = (await session.run(feeds(v), [gm.output]))[gm.output].data as Float32Array;
    let s = 0;
    for (let j = 0; j < y.length; j++) s += r[j] * y[j];
    return s;
  };
  const errors: number[] = [];
  try {
    for (const photo of photos.slice(0, count)) {
      const x = photo.map((v) => v + 0.02 * (rand() * 2 - 1));
      const g = (await session.run(feeds(x)))[gm.grads.get("input")!].data as Float32Array;
      let gMax = 0;
      for (const v of g) gMax = Math.max(gMax, Math.abs(v));
      if (!(gMax > 0)) throw new Error("the input gradient is identically zero");
      const dir = Float32Array.from(g, (gj) => gj / gMax + 0.3 * (rand() * 2 - 1));
      let best = Infinity;
      for (const h of STEPS) {
        const xp = x.map((xj, j) => xj + h * dir[j]), xm = x.map((xj, j) => xj - h * dir[j]);
        let an = 0;
        for (let j = 0; j < x.length; j++) an += g[j] * (xp[j] - xm[j]);
        const fd = (await f(xp)) - (await f(xm));
        best = Math.min(best, Math.abs(fd - an) / Math.abs(an));
        if (Deno.env.get("ZOO_FD_VERBOSE")) console.error(`h ${h}: FD ${fd}, analytic ${an}`);
      }
      errors.push(best);
    }
  } finally {
    await session.release();
  }
  return errors;
}

/**
 * How far the logits move, relative (‖Δy‖/‖y‖), when every input value moves by at most one float32
 * ulp (×(1 + 6e-8·u), u uniform in [−1, 1]), per photo. Near float32 precision (~1e-6) on a
 * well-conditioned network; where it is large, float32 rounding inside the network is amplified as
 * much, so the FD check cannot resolve steps near h (and two correct float32 implementations
 * disagree). docs/zoo.md: efficientnet_v2_s.
 */
export async function roundingSensitivity(
  bytes: Uint8Array,
  photos: readonly Float32Array[],
  inputDims: readonly [number, number, number],
  count = 2,
): Promise<number[]> {
  const session = await (await getRuntime("native")).createSession(bytes);
  const rand = mulberry32(11);
  const logits = async (v: Float32Array) =>
    Object.values(
      await session.run({
        input: { type: "float32", dims: [1, ...inputDims], data: v },
      }),
    )[0].data as Float32Array;
  const shifts: number[] = [];
  try {
    for (const x of photos.slice(0, count)) {
      const y = await logits(x);
      const yp = await logits(x.map((v) => v * (1 + 6e-8 * (rand() * 2 - 1))));
      let d = 0, n = 0;
      for (let j = 0; j < y.length; j++) (d += (yp[j] - y[j]) ** 2), (n += y[j] ** 2);
      shifts.push(Math.sqrt(d / n));
    }
  } finally {
    await session.release();
  }
  return shifts;
}

if (import.meta.main) {
  const [onnxPath, dir, photoDir] = Deno.args;
  const model = await loadModel(dir, { backend: "native", createScorer: createLazyScorer });
  const photos: Float32Array[] = [];
  for await (const item of readInputs([photoDir])) photos.push(model.preprocess(item.image));
  const bytes = await Deno.readFile(onnxPath);
  const errors = await fdErrors(bytes, photos, model.inputDims);
  const shifts = await roundingSensitivity(bytes, photos, model.inputDims);
  console.log(JSON.stringify({ model: onnxPath, fdRelErrors: errors, logitShiftAt1Ulp: shifts }));
}
