/**
 * One row of the zoo sweep (tools/zoo/sweep.ts runs it in its own process, under `/usr/bin/time`,
 * so the peak RSS is this model's alone):
 * `deno run -A tools/zoo/measure.ts <model-dir> <torch.json> <photo-dir> [--no-timing]`.
 *
 * Scores the photos with `energy`, `si_a`, `gaia_a` and `si` on the native backend (checks: finite,
 * image-dependent, energy against torch's within 1e-5 relative), then times the forward pass
 * (`energy`), `si_a`, `gaia_a` and `si` after a warm-up run (compilation excluded): batch 1 averaged
 * over 2 runs, batch 8 one run (the machine is small; see docs/zoo.md).
 * Prints one JSON object.
 * @module
 */
import { join } from "node:path";
import { createLazyScorer } from "../../src/engine/engine.ts";
import { readInputs } from "../../src/inputs/mod.ts";
import { loadModel } from "../../src/models/loader.ts";
import { DEFAULT_SETTINGS, type InputBatch, type Method } from "../../src/contract/scoring.ts";
import type { LoadedModel } from "../../src/models/types.ts";

const METHODS: Method[] = ["energy", "si_a", "gaia_a", "si"];
const TIMED: Method[] = ["energy", "si_a", "gaia_a", "si"];

async function photoBatch(model: LoadedModel, dir: string) {
  const names: string[] = [], images: Float32Array[] = [];
  for await (const item of readInputs([dir])) {
    names.push(item.name.split("/").pop()!);
    images.push(model.preprocess(item.image));
  }
  return { names, images };
}

function batchOf(model: LoadedModel, images: Float32Array[], n: number): InputBatch {
  const [c, h, w] = model.inputDims;
  const per = c * h * w;
  const data = new Float32Array(n * per);
  for (let i = 0; i < n; i++) data.set(images[i % images.length], i * per);
  return { data, dims: [n, c, h, w] };
}

/** Scores every method once; returns per-method scores, errors and the compile+score seconds. */
async function checkMethods(model: LoadedModel, batch: InputBatch) {
  const out: Record<string, unknown> = {};
  for (const method of METHODS) {
    const t0 = performance.now();
    try {
      const r = await model.scorer.score(batch, { ...DEFAULT_SETTINGS, method });
      const scores = r.map((s) => s.score);
      out[method] = {
        scores,
        firstCallSeconds: (performance.now() - t0) / 1000,
        finite: scores.every(Number.isFinite),
        imageDependent: new Set(scores).size > 1,
        errors: r.filter((s) => s.error).map((s) => s.error),
      };
    } catch (e) {
      out[method] = { failed: (e as Error).message };
    }
  }
  return out;
}

/** ms/image at batch `n`, averaged over `runs` runs (the graph is compiled by then). */
async function timeMethod(
  model: LoadedModel,
  images: Float32Array[],
  method: Method,
  n: number,
  runs: number,
) {
  const batch = batchOf(model, images, n);
  const settings = { ...DEFAULT_SETTINGS, method };
  const t0 = performance.now();
  for (let k = 0; k < runs; k++) await model.scorer.score(batch, settings);
  return (performance.now() - t0) / runs / n;
}

async function main(args: string[]) {
  const [dir, torchJson, photos] = args;
  const torch = JSON.parse(await Deno.readTextFile(torchJson));
  const t0 = performance.now();
  const model = await loadModel(dir, { backend: "native", createScorer: createLazyScorer });
  const loadSeconds = (performance.now() - t0) / 1000;
  const { names, images } = await photoBatch(model, photos);
  const methods = await checkMethods(model, batchOf(model, images, images.length));
  const energy = (methods.energy as { scores?: number[] }).scores ?? [];
  const energyRelErr = Math.max(
    ...names.map((n, i) => Math.abs(energy[i] - torch.energy[n]) / Math.abs(torch.energy[n])),
  );
  const msPerImage: Record<string, Record<string, number>> = {};
  if (!args.includes("--no-timing")) {
    for (const method of TIMED) {
      msPerImage[method] = {};
      try {
        // The graph was compiled by the checks above; one more batch-1 run warms the session.
        await timeMethod(model, images, method, 1, 1);
        msPerImage[method].b1 = await timeMethod(model, images, method, 1, 2);
        msPerImage[method].b8 = await timeMethod(model, images, method, 8, 1);
      } catch (e) {
        console.error(`${method}: ${(e as Error).message}`);
      }
    }
  }
  console.log(JSON.stringify({
    arch: torch.arch,
    params: torch.params,
    dir: join(dir),
    loadSeconds,
    energyRelErr,
    methods,
    msPerImage,
  }));
}

if (import.meta.main) await main(Deno.args);
