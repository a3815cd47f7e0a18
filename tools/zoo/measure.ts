/**
 * One row of the zoo sweep (tools/zoo/sweep.ts runs it in its own process, under `/usr/bin/time`,
 * so the peak RSS is this model's alone):
 * `deno run -A tools/zoo/measure.ts <model-dir> <torch.json> <photo-dir> [--no-timing]`.
 *
 * Scores the photos with `energy`, `si_a`, `gaia_a` and `si` on the native backend (checks: finite,
 * image-dependent, energy against torch's within 1e-5 relative), then times the forward pass
 * (`energy`), `si_a`, `gaia_a` and `si` at batch 1 and 8 after one warm-up run (compilation excluded).
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

async function timeMethod(model: LoadedModel, images: Float32Array[], method: Method, n: number) {
  const batch = batchOf(model, images, n);
  const settings = { ...DEFAULT_SETTINGS, method };
  await model.scorer.score(batch, settings); // warm-up (and compile when not cached)
  const runs = n === 1 ? 3 : 2;
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
      for (const n of [1, 8]) {
        try {
          msPerImage[method][`b${n}`] = await timeMethod(model, images, method, n);
        } catch (e) {
          console.error(`${method} b${n}: ${(e as Error).message}`);
        }
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
