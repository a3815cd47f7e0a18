/**
 * Child of the start-up benchmark (bench/startup.ts): loads a model directory as the CLI does and
 * times its forward pass (the `energy` graph: logits only) at batch 1 after one warm-up run.
 * Prints one JSON line `{"forwardMs", "runs"}`.
 * @module
 */
import { loadModel } from "../src/models/loader.ts";
import { createLazyScorer } from "../src/engine/engine.ts";

const [dir, runsArg] = Deno.args;
const runs = Number(runsArg ?? 5);
const model = await loadModel(dir, { backend: "native", createScorer: createLazyScorer });
const [c, h, w] = model.inputDims;
const data = new Float32Array(c * h * w);
for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 12.9898) * 0.5;
const settings = { ...model.defaults, method: "energy" as const };
const batch = { data, dims: [1, c, h, w] as [number, number, number, number] };
await model.scorer.score(batch, settings);
const times: number[] = [];
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  await model.scorer.score(batch, settings);
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ forwardMs: Math.round(times[runs >> 1] * 10) / 10, runs }));
