/**
 * Dumps our compiled input gradient at the finite-difference check's points, for comparison with
 * torch's autograd (tools/zoo/torch_grad_check.py):
 * `deno run -A tools/zoo/grad_dump.ts <model.onnx> <model-dir> <photo-dir> <out-dir>`.
 *
 * Writes raw little-endian float32 files to `<out-dir>`: `r.bin` (the cotangent R of
 * f(x) = Σ R·logits(x)), and per point `x_<name>.bin` (the input), `y_<name>.bin` (our logits) and
 * `g_<name>.bin` (our ∂f/∂x), each once more as `*_noopt_*` from an onnxruntime session with graph
 * optimisation disabled. The points: the first two photos with ±0.02 of noise, exactly as
 * tools/zoo/fd_check.ts draws them (same seed, same order), and one N(0, 1) noise image
 * (`noise`: the distribution the zoo's BatchNorm statistics were estimated on). Prints the
 * float32 finite-difference error (tools/zoo/fd_check.ts) at the noise image.
 * @module
 */
import { join } from "node:path";
import { createLazyScorer, SiEngine } from "../../src/engine/engine.ts";
import { gradientModel } from "../../bench/lib/gradient_model.ts";
import { readInputs } from "../../src/inputs/mod.ts";
import { mulberry32 } from "../../src/inputs/noise.ts";
import { loadModel } from "../../src/models/loader.ts";
import { readModel, writeModel } from "../../src/onnx/proto.ts";
import { getRuntime } from "../../src/runtime/runtime.ts";
import type { SessionOptions } from "../../src/runtime/types.ts";
import { fdErrors } from "./fd_check.ts";

/** Seeded N(0, 1) values (Box–Muller on mulberry32). */
function gaussian(n: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n }, () => {
    const u = 1 - rand(), v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  });
}

/** The fd_check's points: R, then each photo plus ±0.02 noise (its direction draws skipped). */
function fdPoints(photos: readonly Float32Array[], k: number) {
  const rand = mulberry32(5);
  const r = Float32Array.from({ length: k }, () => rand() * 2 - 1);
  const points = photos.slice(0, 2).map((photo) => {
    const x = photo.map((v) => v + 0.02 * (rand() * 2 - 1));
    for (let j = 0; j < x.length; j++) rand(); // fd_check's direction noise
    return x;
  });
  return { r, points };
}

const write = (path: string, data: Float32Array) =>
  Deno.writeFile(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));

async function main() {
  const [onnxPath, dir, photoDir, out] = Deno.args;
  const model = await loadModel(dir, { backend: "native", createScorer: createLazyScorer });
  const names: string[] = [], photos: Float32Array[] = [];
  for await (const item of readInputs([photoDir])) {
    names.push(item.name.split("/").pop()!.replace(/\.\w+$/, ""));
    photos.push(model.preprocess(item.image));
  }
  const bytes = await Deno.readFile(onnxPath);
  const inputDims = model.inputDims;
  const engine = await SiEngine.create({
    modelBytes: bytes,
    backend: "native",
    inputDims,
    splitPolicy: { kind: "normalization" },
  });
  const gm = gradientModel(readModel(bytes), engine.shapes, ["input"]);
  const k = engine.shapes.get(gm.output)!.dims[1];
  const { r, points } = fdPoints(photos, k);
  const noise = gaussian(points[0].length, 7);
  const named: [string, Float32Array][] = points.map((x, i) => [names[i], x]);
  named.push(["noise", noise]);
  await Deno.mkdir(out, { recursive: true });
  await write(join(out, "r.bin"), r);
  const runtime = await getRuntime("native");
  const variants: [string, SessionOptions][] = [["", {}], ["noopt_", { optimization: "disabled" }]];
  for (const [tag, options] of variants) {
    const session = await runtime.createSession(writeModel(gm.model), options);
    for (const [name, x] of named) {
      const res = await session.run({
        input: { type: "float32", dims: [1, ...inputDims], data: x },
        [gm.seed]: { type: "float32", dims: [1, k], data: r },
      });
      await write(join(out, `x_${name}.bin`), x);
      await write(join(out, `y_${tag}${name}.bin`), res[gm.output].data as Float32Array);
      await write(
        join(out, `g_${tag}${name}.bin`),
        res[gm.grads.get("input")!].data as Float32Array,
      );
    }
    await session.release();
  }
  const fdNoise = await fdErrors(bytes, [noise], inputDims, 1);
  console.log(JSON.stringify({ points: named.map(([n]) => n), fdRelErrorAtNoise: fdNoise[0] }));
}

if (import.meta.main) await main();
