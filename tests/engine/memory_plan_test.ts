import assert from "node:assert/strict";
import { Graph } from "../../src/onnx/graph.ts";
import { readModel, writeModel } from "../../src/onnx/proto.ts";
import { ALPHA_INPUT, compileScoringModel } from "../../src/si/compile.ts";
import { SiEngine } from "../../src/engine/engine.ts";
import {
  ACTIVATION_FACTOR,
  activationBytesPerImage,
  BASE_BYTES,
  cgroupMemoryLimit,
  CREATION_FACTOR,
  MemoryBudgetError,
  OPTIMIZED_SESSION_FACTOR,
  planMemory,
  SESSION_FACTOR,
  sessionSlots,
} from "../../src/engine/memory_plan.ts";
import type { ScoreSettings } from "../../src/contract/scoring.ts";
import { tinyInputs, tinyModel } from "../si/tiny_model.ts";

const MB = 2 ** 20;
const settings: ScoreSettings = {
  method: "si",
  alpha: 0.05,
  iterations: 2,
  loss: "ce",
  integrate: "add",
};
const options = {
  modelBytes: tinyModel(),
  backend: "wasm" as const,
  inputDims: [3, 8, 8] as [number, number, number],
  splitPolicy: { kind: "normalization" as const },
};

Deno.test("activationBytesPerImage() never grows with smaller split chunks", async () => {
  const engine = await SiEngine.create(options);
  const graph = new Graph(readModel(options.modelBytes));
  const splits = engine.splits(settings);
  assert.equal(splits.length, 3);
  const sizes = [3, 2, 1].map((c) => activationBytesPerImage(graph, engine.shapes, splits, 2, c));
  assert.ok(sizes[0] >= sizes[1] && sizes[1] >= sizes[2], `sizes ${sizes}`);
  // Iteration 0 alone: the forward pass, and a two-seed backward that stops at the first split.
  const bytes = (name: string) => {
    const i = engine.shapes.get(name)!;
    return i.type === "float32" && i.dims[0] === -1
      ? 4 * i.dims.slice(1).reduce((x, y) => x * y, 1)
      : 0;
  };
  // Before the first split only the largest 8 tensors count (freed as the forward goes); from
  // it on, the forward's tensors are kept for the backward pass, which carries two streams.
  const outputs = graph.nodes.flatMap((n) => n.output ?? []);
  const at = outputs.indexOf(splits[0]);
  const early = outputs.slice(0, at).map(bytes).sort((a, b) => b - a);
  const late = outputs.slice(at).reduce((a, o) => a + bytes(o), 0);
  assert.ok(early.some((b) => b > 0), "the tiny model has tensors before its first split");
  assert.equal(
    activationBytesPerImage(graph, engine.shapes, splits, 1, 3),
    early.slice(0, 8).reduce((a, b) => a + b, 0) + 3 * late,
  );
});

Deno.test("planMemory() trades split chunk for batch and names the need when nothing fits", () => {
  const perImage = (chunk: number) => chunk * 10 * MB;
  const unit = ACTIVATION_FACTOR * 10 * MB; // estimated peak per image and split of a pass
  const base = {
    modelBytes: 0,
    graphBytes: 0,
    fromBytes: false,
    slots: 1,
    maxBatch: 8,
    splitCount: 4,
    perImage,
  };
  const roomy = planMemory({ ...base, budgetBytes: BASE_BYTES + 8 * 4 * unit });
  assert.deepEqual([roomy.batch, roomy.splitChunk], [8, 4]);
  const tight = planMemory({ ...base, budgetBytes: BASE_BYTES + 2 * 4 * unit });
  assert.ok(tight.peakBytes <= BASE_BYTES + 2 * 4 * unit);
  assert.equal(tight.batch * tight.splitChunk, 8);
  const tiny = planMemory({ ...base, budgetBytes: BASE_BYTES + 1.5 * unit });
  assert.deepEqual([tiny.batch, tiny.splitChunk], [1, 1]);
  assert.throws(
    () => planMemory({ ...base, budgetBytes: BASE_BYTES + 0.5 * unit }),
    (e: unknown) =>
      e instanceof MemoryBudgetError && /budget of \d+ MB is too small/.test(e.message) &&
      /needs about \d+ MB; raise MEMORY_BUDGET_MB/.test(e.message),
  );
});

Deno.test("planMemory() counts the model, the other sessions and a session's creation peak", () => {
  const m = { budgetBytes: 1024 * MB, modelBytes: 80 * MB, graphBytes: 160 * MB, fromBytes: false };
  const session = SESSION_FACTOR * m.graphBytes;
  const creation = CREATION_FACTOR * m.graphBytes;
  const held = BASE_BYTES + m.modelBytes;
  const perImage = () => 10 * MB;
  const plan = (budgetMb: number, slots: number) =>
    planMemory({
      ...m,
      budgetBytes: budgetMb * MB,
      slots,
      maxBatch: 1000,
      splitCount: 1,
      perImage,
    });
  // One session: images fill what the session leaves.
  const one = plan(1024, 1);
  assert.equal(one.batch, Math.floor((1024 * MB - held - session) / (ACTIVATION_FACTOR * 10 * MB)));
  assert.ok(one.peakBytes <= 1024 * MB);
  // Every further session kept alive takes its share first.
  assert.ok(plan(2048, 3).batch < plan(2048, 1).batch);
  // A budget below the creation peak fails, naming what the smallest plan needs.
  const below = Math.floor((held + creation) / MB) - 1;
  assert.throws(() => plan(below, 1), (e: unknown) =>
    e instanceof MemoryBudgetError &&
    e.message.includes(`needs about ${Math.ceil((held + creation) / MB)} MB`));
  // Creating from serialized bytes costs more than from a file.
  assert.throws(() =>
    planMemory({
      ...m,
      budgetBytes: (below + 2) * MB,
      fromBytes: true,
      slots: 1,
      maxBatch: 8,
      splitCount: 1,
      perImage,
    }), MemoryBudgetError);
  // Sessions kept: 1 when only one fits with room to run, up to the cap when memory is plenty.
  assert.equal(sessionSlots(m, 4), 1);
  assert.equal(sessionSlots({ ...m, budgetBytes: 64 * 1024 * MB }, 4), 4);
  assert.equal(sessionSlots({ ...m, modelBytes: 0, graphBytes: 0 }, 4), 4);
});

Deno.test("SiEngine rejects a budget too small for its model when it first scores", async () => {
  const roomy = await SiEngine.create(options);
  assert.equal(roomy.plan(settings).splitChunk, 3);
  assert.equal(roomy.plan(settings).batch, 8);
  const input = { data: tinyInputs(2), dims: [2, 3, 8, 8] as [number, number, number, number] };
  const starved = await SiEngine.create({ ...options, memoryBudgetMb: 64 });
  await assert.rejects(() => starved.score(input, settings), MemoryBudgetError);
  // Output-based methods have no gradient passes to plan.
  assert.equal((await starved.score(input, { ...settings, method: "msp" })).length, 2);
});

Deno.test("a graph compiled with one split per stacked pass gives the same fractions", async () => {
  const engine = await SiEngine.create(options);
  const input = { data: tinyInputs(3), dims: [3, 3, 8, 8] as [number, number, number, number] };
  for (const s of [settings, { ...settings, iterations: 3, integrate: "multiply" as const }]) {
    const model = compileScoringModel(engine.model, engine.shapes, s, engine.splits(s), {
      splitChunk: 1,
    });
    const session = await engine.runtime.createSession(writeModel(model));
    const out = await session.run({
      input: { type: "float32", dims: input.dims, data: input.data },
      [ALPHA_INPUT]: { type: "float32", dims: [], data: new Float32Array([s.alpha]) },
    });
    await session.release();
    const f = out.fractions;
    const w = f.dims[1];
    const got = Array.from(
      { length: 3 },
      (_, i) => Array.from((f.data as Float32Array).subarray(i * w, (i + 1) * w)),
    );
    const want = await engine.fractions(input, s);
    assert.deepEqual(
      got.map((r) => r.map((v) => Math.round(v * 1e6))),
      want.map((r) => r.map((v) => Math.round(v * 1e6))),
    );
  }
});

Deno.test("cgroupMemoryLimit() reads cgroup v2 and v1 limits and treats unlimited as none", () => {
  const files = (entries: Record<string, string>) => (path: string) => {
    if (!(path in entries)) throw new Deno.errors.NotFound(path);
    return entries[path];
  };
  assert.equal(
    cgroupMemoryLimit(files({ "/sys/fs/cgroup/memory.max": "3221225472\n" })),
    3 * 2 ** 30,
  );
  assert.equal(cgroupMemoryLimit(files({ "/sys/fs/cgroup/memory.max": "max\n" })), undefined);
  const v1 = "/sys/fs/cgroup/memory/memory.limit_in_bytes";
  assert.equal(cgroupMemoryLimit(files({ [v1]: "2147483648" })), 2 ** 31);
  assert.equal(cgroupMemoryLimit(files({ [v1]: "9223372036854771712" })), undefined);
  assert.equal(cgroupMemoryLimit(files({})), undefined);
});

Deno.test("planMemory() counts less for a session opened from onnxruntime's optimised graph", () => {
  const m = { budgetBytes: 512 * MB, modelBytes: 0, graphBytes: 150 * MB, fromBytes: false };
  const args = { ...m, slots: 1, maxBatch: 8, splitCount: 1, perImage: () => 50 * MB };
  // Cold: the optimising creation (3.4 × the graph's weights) does not fit 512 MB.
  assert.throws(() => planMemory(args), MemoryBudgetError);
  const warm = planMemory({ ...args, warm: () => true });
  const session = OPTIMIZED_SESSION_FACTOR * m.graphBytes;
  assert.equal(
    warm.batch,
    Math.floor((512 * MB - BASE_BYTES - session) / (ACTIVATION_FACTOR * 50 * MB)),
  );
  assert.ok(warm.peakBytes <= 512 * MB);
});
