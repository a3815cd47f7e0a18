import assert from "node:assert/strict";
import { SiEngine } from "../../src/engine/engine.ts";
import { tinyInputs, tinyModel } from "../si/tiny_model.ts";

const N = 4;
const input = { data: tinyInputs(N), dims: [N, 3, 8, 8] as [number, number, number, number] };
// Gradient runs of one image each, so a batch of four is four onnxruntime runs.
const engine = await SiEngine.create({
  modelBytes: tinyModel(),
  backend: "wasm",
  inputDims: [3, 8, 8],
  splitPolicy: { kind: "normalization" },
  maxGradientBatch: 1,
});
const settings = {
  method: "si",
  alpha: 0.05,
  iterations: 2,
  loss: "ce",
  integrate: "add",
} as const;

Deno.test("SiEngine.score() rejects with the signal's reason when the batch is already unwanted", async () => {
  const abort = new AbortController();
  const reason = new DOMException("client left", "AbortError");
  abort.abort(reason);
  await assert.rejects(
    engine.score(input, settings, { signal: abort.signal }),
    (e) => e === reason,
  );
});

Deno.test("SiEngine.score() stops between runs once its signal aborts", async () => {
  const abort = new AbortController();
  // Aborted while the first of four runs is under way: an engine that ignored the signal would
  // finish all four and resolve.
  const scoring = engine.score(input, settings, { signal: abort.signal });
  queueMicrotask(() => abort.abort(new DOMException("client left", "AbortError")));
  await assert.rejects(scoring, { name: "AbortError" });
  // The engine stays usable: the next call scores every image.
  assert.equal((await engine.score(input, settings)).length, N);
});
