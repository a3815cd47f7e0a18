import assert from "node:assert/strict";
import { withCacheDir } from "../runtime/cache_dir.ts";
import { join } from "node:path";
import { readModel, writeModel } from "../../src/onnx/proto.ts";
import { SiEngine } from "../../src/engine/engine.ts";
import { graphSettings } from "../../src/si/compile.ts";
import { finishCompile } from "../../src/engine/compile_job.ts";
import {
  type CompileJob,
  compileOffThread,
  compileWorkers,
} from "../../src/engine/compile_off_thread.ts";
import { onStackingFallback } from "../../src/engine/fallbacks.ts";
import { splitPolicyOf } from "../../src/contract/scoring.ts";
import type { ScoreSettings } from "../../src/contract/scoring.ts";
import type { Runtime } from "../../src/runtime/types.ts";
import { tinyInputs, tinyModel } from "../si/tiny_model.ts";

const SI: ScoreSettings = {
  method: "si",
  alpha: 0.05,
  iterations: 2,
  loss: "ce",
  integrate: "add",
};
const SI_A: ScoreSettings = { ...SI, method: "si_a", iterations: 3 };
const tiny = {
  modelBytes: tinyModel(),
  backend: "wasm" as const,
  inputDims: [3, 8, 8] as [number, number, number],
  splitPolicy: { kind: "normalization+pool" as const },
};
const engine = await SiEngine.create(tiny);
const input = { data: tinyInputs(3), dims: [3, 3, 8, 8] as [number, number, number, number] };

/** The job the engine builds for these settings (see SiEngine #emit). */
function jobFor(e: SiEngine, modelBytes: Uint8Array, settings: ScoreSettings, file?: string) {
  const s = graphSettings(settings);
  return {
    modelBytes,
    shapes: e.shapes,
    settings: s,
    splits: e.splits(s),
    options: { stack: true, dynamicBatch: true, splitChunk: e.plan(s).splitChunk },
    file,
  } satisfies CompileJob;
}

Deno.test("compileOffThread() returns the same bytes as compiling in-thread", async () => {
  for (const s of [SI, SI_A, { ...SI, method: "energy" } satisfies ScoreSettings]) {
    const off = await compileOffThread(jobFor(engine, tiny.modelBytes, s));
    assert.ok(off instanceof Uint8Array, s.method);
    assert.deepEqual(off, new Uint8Array(engine.compile(s)), s.method);
  }
});

Deno.test("compileOffThread() writes the compile-cache file entry that the in-thread writer writes", async () => {
  await withCacheDir(async (dir) => {
    const off = join(dir, ".cache", "off.onnx");
    const here = join(dir, ".cache", "here.onnx");
    assert.equal(await compileOffThread(jobFor(engine, tiny.modelBytes, SI_A, off)), off);
    const model = readModel(engine.compile(SI_A));
    assert.equal(await finishCompile(model, here), here);
    assert.deepEqual(await Deno.readFile(`${off}.data`), await Deno.readFile(`${here}.data`));
    // The graph files differ only in the data file's name they point to.
    const graph = (p: string) => {
      const m = readModel(Deno.readFileSync(p));
      for (const t of m.graph!.initializer!) {
        for (const e of t.externalData ?? []) if (e.key === "location") e.value = "data";
      }
      return writeModel(m);
    };
    assert.deepEqual(graph(off), graph(here));
    assert.ok((await Deno.stat(`${off}.sha256`)).isFile);
  });
});

Deno.test("compileOffThread() rejects with the worker's error name and message", async () => {
  await assert.rejects(
    compileOffThread(jobFor(engine, tiny.modelBytes, { ...SI, method: "fused" })),
    {
      name: "Error",
      message: 'Method "fused" is scored through a loaded model (src/models/fusion.ts)',
    },
  );
  await assert.rejects(
    compileOffThread({ ...jobFor(engine, tiny.modelBytes, SI), modelBytes: new Uint8Array(8) }),
    { name: "Error", message: /^Cannot read ONNX model "model"/ },
  );
  // No shapes: the head's `shapes.get(logits)!.dims` throws a TypeError in the worker.
  await assert.rejects(
    compileOffThread({
      ...jobFor(engine, tiny.modelBytes, { ...SI, method: "msp" }),
      shapes: new Map(),
    }),
    { name: "TypeError" },
  );
});

Deno.test("compileOffThread() compiles on this thread when no Worker can be started", async () => {
  const worker = compileWorkers.Worker;
  let tried = 0;
  compileWorkers.Worker = class {
    constructor() {
      tried++;
      throw new Error("no workers here");
    }
  } as unknown as typeof Worker;
  try {
    const job = jobFor(engine, tiny.modelBytes, SI);
    assert.deepEqual(await compileOffThread(job), engine.compile(SI));
    let inThread = 0;
    const model = readModel(engine.compile(SI));
    const out = await compileOffThread(job, { inThread: () => (inThread++, model) });
    assert.deepEqual(out, engine.compile(SI));
    assert.deepEqual([tried, inThread], [2, 1]);
  } finally {
    compileWorkers.Worker = worker;
  }
});

Deno.test("compileOffThread() forwards stacking fallbacks to this thread", async () => {
  const bytes = tinyModel(1, "input-shape");
  const e = await SiEngine.create({
    ...tiny,
    modelBytes: bytes,
    splitPolicy: { kind: "normalization" },
  });
  const seen: string[] = [];
  const stop = onStackingFallback((_model, reason) => seen.push(reason));
  try {
    await compileOffThread(jobFor(e, bytes, SI), { onFallback: (r) => seen.push(`job: ${r}`) });
  } finally {
    stop();
  }
  assert.equal(seen.length, 1);
  assert.match(seen[0], /^job: .*Reshape .* does not keep the batch axis/);
});

Deno.test("SiEngine scores the same with compileInWorker true and false (bytes and cached files)", async () => {
  await withCacheDir(async (dir) => {
    for (const backend of ["wasm", "native"] as const) {
      const cacheDir = backend === "native" ? join(dir, backend) : undefined;
      const make = (compileInWorker: boolean) =>
        SiEngine.create({ ...tiny, backend, cacheDir, compileInWorker });
      const [off, on] = [await make(false), await make(true)];
      for (const s of [SI, SI_A]) {
        assert.deepEqual(
          await on.score(input, s),
          await off.score(input, s),
          `${backend} ${s.method}`,
        );
      }
      if (cacheDir) {
        // Both engines share the cache entries; a third compile is not needed (each compiled
        // graph also has onnxruntime's optimised graph next to it: optimized_cache.ts).
        const names = [...Deno.readDirSync(join(cacheDir, ".cache"))].map((f) => f.name);
        const optimized = names.filter((n) => n.endsWith(".opt.onnx")).length;
        assert.equal(names.filter((n) => n.endsWith(".onnx")).length - optimized, 2);
        assert.equal(optimized, 2);
      }
    }
  });
});

/** The longest gaps of a 5 ms interval on this thread while `warmup` compiles, split at session creation. */
async function stalls(e: SiEngine, settings: ScoreSettings) {
  const runtime = e.runtime as { -readonly [K in keyof Runtime]: Runtime[K] };
  const create = runtime.createSession;
  let creating = Infinity;
  runtime.createSession = (model, options) => {
    creating = Math.min(creating, performance.now()); // the first: the optimised-graph cache reopens
    return create.call(runtime, model, options);
  };
  const gaps: { end: number; ms: number }[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    gaps.push({ end: now, ms: now - last });
    last = now;
  }, 5);
  const start = performance.now();
  try {
    await e.warmup(settings);
  } finally {
    clearInterval(timer);
    runtime.createSession = create;
  }
  const end = performance.now();
  gaps.push({ end, ms: end - last });
  const compiling = gaps.filter((g) => g.end <= creating);
  const tail = Math.max(...gaps.filter((g) => g.end < creating).map((g) => g.end), start);
  compiling.push({ end: creating, ms: creating - tail });
  return {
    compile: Math.max(...compiling.map((g) => g.ms)),
    ticks: compiling.length - 1,
    compileMs: creating - start,
    session: Math.max(...gaps.filter((g) => g.end > creating).map((g) => g.ms)),
  };
}

Deno.test("SiEngine keeps this thread responsive while a worker compiles a new graph (fmnist-wrn40)", async () => {
  const dir = new URL("../../models/fmnist-wrn40/", import.meta.url);
  const manifest = JSON.parse(await Deno.readTextFile(new URL("manifest.json", dir)));
  const modelBytes = await Deno.readFile(new URL("model.onnx", dir));
  // T = 4: emission takes ~0.1 s in-thread, session creation ~4 s (T = 8: 0.3 s and 22 s).
  const settings: ScoreSettings = { ...SI, iterations: 4 };
  await withCacheDir(async (cacheDir) => {
    const e = await SiEngine.create({
      modelBytes,
      backend: "native",
      inputDims: [3, 32, 32],
      splitPolicy: splitPolicyOf(manifest),
      source: manifest.name,
      cacheDir,
    });
    const off = await stalls(e, settings);
    // The same emission on this thread (what it stalls for with `compileInWorker: false`).
    const emission = Math.min(...[0, 1].map(() => {
      const start = performance.now();
      e.compile(settings);
      return performance.now() - start;
    }));
    console.log(
      `fmnist-wrn40 T=4: longest stall of this thread while the worker compiled ` +
        `${off.compile.toFixed(0)} ms (${off.ticks} ticks in ${off.compileMs.toFixed(0)} ms), ` +
        `in-thread emission ${emission.toFixed(0)} ms, session creation ${
          off.session.toFixed(0)
        } ms`,
    );
    assert.ok(
      off.compile < emission / 2,
      `stall with the worker ${off.compile} ms, in-thread emission ${emission} ms`,
    );
    assert.ok(off.ticks >= 3, `only ${off.ticks} ticks while the worker compiled`);
  });
});

Deno.test("the compile worker does not load onnxruntime", async () => {
  const url = new URL("../../src/engine/compile_worker.ts", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json", url.href] })
    .output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout));
  const specifiers: string[] = info.modules.map((m: { specifier: string }) => m.specifier);
  assert.ok(specifiers.some((s) => s.includes("onnx-proto")), "the worker's graph was read");
  assert.deepEqual(specifiers.filter((s) => s.includes("onnxruntime")), []);
});
