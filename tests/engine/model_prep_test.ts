import assert from "node:assert/strict";
import { prepareModel } from "../../src/engine/model_prep.ts";
import { SiEngine } from "../../src/engine/engine.ts";
import type { ScoreSettings } from "../../src/contract/scoring.ts";
import { getRuntime } from "../../src/runtime/runtime.ts";
import { clearMemoryCache } from "../../src/runtime/compile_cache.ts";
import type { Runtime } from "../../src/runtime/types.ts";
import { withCacheDir } from "../runtime/cache_dir.ts";

const BIT = new URL("../fixtures/bit-tiny-fmnist/model.onnx", import.meta.url);

/** The runtime, counting the sessions created through it. */
function counting(inner: Runtime): Runtime & { sessions: number } {
  const rt = {
    backend: inner.backend,
    info: inner.info,
    sessions: 0,
    createSession(...args: Parameters<Runtime["createSession"]>) {
      rt.sessions++;
      return inner.createSession(...args);
    },
  };
  return rt;
}

Deno.test("prepareModel() on a restart reads the cached shapes and folded model: no session", async () => {
  const bytes = await Deno.readFile(BIT);
  const wasm = await getRuntime("wasm");
  await withCacheDir(async (dir) => {
    const opts = { bytes, source: "bit", inputDims: [3, 32, 32], cacheDir: dir };
    const first = counting(wasm);
    const cold = await prepareModel({ ...opts, runtime: first });
    assert.equal(first.sessions, 2, "folding and the probe each create one session");
    assert.equal(cold.cached, false);
    assert.equal(cold.folded, true);
    clearMemoryCache(); // what a process restart looks like
    const second = counting(wasm);
    const warm = await prepareModel({ ...opts, runtime: second });
    assert.equal(second.sessions, 0, "a restart creates no probe or folding session");
    assert.equal(warm.cached, true);
    assert.deepEqual([...warm.shapes], [...cold.shapes]);
    assert.deepEqual(Uint8Array.from(warm.source.bytes()), Uint8Array.from(cold.source.bytes()));
    assert.equal(warm.source.held, false, "the folded model is read back only to compile");
    assert.equal(warm.digest, cold.digest);
  });
});

Deno.test("prepareModel() without a cache directory probes every time", async () => {
  const bytes = await Deno.readFile(BIT);
  const rt = counting(await getRuntime("wasm"));
  const opts = { bytes, source: "bit", inputDims: [3, 32, 32], cacheDir: undefined, runtime: rt };
  await prepareModel(opts);
  await prepareModel(opts);
  assert.equal(rt.sessions, 4);
});

Deno.test("SiEngine given the model's file frees the bytes and reads the model back to compile", async () => {
  const file = BIT.pathname;
  const bytes = await Deno.readFile(file);
  await withCacheDir(async (dir) => {
    const engine = await SiEngine.create({
      modelBytes: bytes,
      modelFile: file,
      backend: "wasm",
      inputDims: [3, 32, 32],
      splitPolicy: { kind: "last-normalization", count: 10 },
      cacheDir: dir,
      compileInWorker: false,
    });
    assert.equal(bytes.length, 0, "the engine detached the bytes it owns");
    assert.ok(engine.model.graph!.initializer!.some((t) => t.rawData?.length === 0), "a skeleton");
    const data = new Float32Array(2 * 3 * 32 * 32).fill(0.25);
    const input = { data, dims: [2, 3, 32, 32] as [number, number, number, number] };
    const settings: ScoreSettings = {
      method: "si_a",
      alpha: 0.001,
      iterations: 2,
      loss: "ce",
      integrate: "add",
    };
    const scores = await engine.score(input, settings);
    assert.equal(scores.length, 2);
    assert.ok(scores.every((s) => Number.isFinite(s.score)));
  });
});
