import assert from "node:assert/strict";
import { readModel } from "../../src/onnx/proto.ts";
import { SiEngine } from "../../src/engine/engine.ts";
import { referenceScores } from "../../bench/lib/reference_loop.ts";
import type { ScoreSettings } from "../../src/contract/scoring.ts";
import { tinyInputs, tinyModel } from "../si/tiny_model.ts";

const N = 3;
const modelBytes = tinyModel();
const input = { data: tinyInputs(N), dims: [N, 3, 8, 8] as [number, number, number, number] };
const options = {
  modelBytes,
  backend: "wasm" as const,
  inputDims: [3, 8, 8] as [number, number, number],
  splitPolicy: { kind: "normalization+pool" as const },
};
const stacked = await SiEngine.create(options);
const perSplit = await SiEngine.create({ ...options, stackRemainders: false });

const combos: ScoreSettings[] = [];
for (const iterations of [1, 2, 3]) {
  for (const loss of ["ce", "max"] as const) {
    for (const integrate of ["add", "multiply"] as const) {
      combos.push({ method: "si", alpha: 0.05, iterations, loss, integrate });
    }
  }
}

Deno.test("SiEngine gives the slow loop's masks for T 1–3, both losses, both integrations", async () => {
  const splits = stacked.splits(combos[0]);
  assert.equal(splits.length, 4);
  const model = readModel(modelBytes);
  let changedByIterations = 0;
  const t1 = new Map<string, number[][]>();
  for (const s of combos) {
    const slow = await referenceScores(model, stacked.runtime, stacked.shapes, splits, s, input);
    const label = JSON.stringify(s);
    for (const engine of [stacked, perSplit]) {
      const fast = await engine.fractions(input, s);
      const scores = await engine.score(input, s);
      for (let i = 0; i < N; i++) {
        assert.deepEqual(
          fast[i].map((v) => Math.round(v * 1e6)),
          slow[i].fractions.map((v) => Math.round(v * 1e6)),
          `${label} image ${i}`,
        );
        assert.ok(Math.abs(scores[i].score - slow[i].score) < 1e-6, `${label} image ${i} score`);
      }
    }
    const key = `${s.loss}/${s.integrate}`;
    if (s.iterations === 1) t1.set(key, slow.map((r) => r.fractions));
    else if (JSON.stringify(t1.get(key)) !== JSON.stringify(slow.map((r) => r.fractions))) {
      changedByIterations++;
    }
  }
  // The test model is built so that iterations t ≥ 1 change masks; otherwise the check is weak.
  assert.ok(changedByIterations >= 4, `only ${changedByIterations} settings differ from T = 1`);
});

Deno.test("SiEngine scores do not depend on batch composition", async () => {
  const s: ScoreSettings = {
    method: "si",
    alpha: 0.05,
    iterations: 2,
    loss: "ce",
    integrate: "add",
  };
  const together = await stacked.score(input, s);
  for (let i = 0; i < N; i++) {
    const alone = await stacked.score({
      data: input.data.slice(i * 192, (i + 1) * 192),
      dims: [1, 3, 8, 8],
    }, s);
    assert.equal(alone[0].score, together[i].score);
    assert.equal(alone[0].class, together[i].class);
  }
});

Deno.test("SiEngine rejects bad settings and mismatched inputs with clear errors", async () => {
  const s: ScoreSettings = {
    method: "si",
    alpha: 0.001,
    iterations: 0,
    loss: "ce",
    integrate: "add",
  };
  await assert.rejects(
    () => stacked.score(input, s),
    /iterations must be an integer from 1 to 10, got 0/,
  );
  await assert.rejects(
    () =>
      stacked.score({ data: new Float32Array(3 * 16), dims: [1, 3, 4, 4] }, {
        ...s,
        iterations: 2,
      }),
    /expects \[N,3,8,8\]/,
  );
});

Deno.test("SiEngine keeps a bounded number of sessions and scores correctly across evictions", async () => {
  const small = await SiEngine.create({ ...options, maxSessions: 2 });
  const iterations = [1, 2, 3, 4];
  const base: ScoreSettings = {
    method: "si",
    alpha: 0.05,
    iterations: 0,
    loss: "ce",
    integrate: "multiply",
  };
  const expected = [];
  for (const t of iterations) expected.push(await stacked.score(input, { ...base, iterations: t }));
  // Concurrent requests with more distinct graphs than sessions: each evicts another's.
  const got = await Promise.all(
    iterations.map((t) => small.score(input, { ...base, iterations: t })),
  );
  assert.deepEqual(
    got.map((r) => r.map((s) => s.score)),
    expected.map((r) => r.map((s) => s.score)),
  );
});

Deno.test("SiEngine reuses one compiled graph for every alpha (alpha is a graph input)", async () => {
  const engine = await SiEngine.create(options);
  const model = readModel(modelBytes);
  const base: ScoreSettings = {
    method: "si",
    alpha: 0.05,
    iterations: 3,
    loss: "ce",
    integrate: "multiply",
  };
  const splits = engine.splits(base);
  const seen: number[][][] = [];
  for (const alpha of [0.05, 1, 0.05]) {
    const s = { ...base, alpha };
    const fast = await engine.fractions(input, s);
    const slow = await referenceScores(model, engine.runtime, engine.shapes, splits, s, input);
    for (let i = 0; i < N; i++) {
      assert.deepEqual(
        fast[i].map((v) => Math.round(v * 1e6)),
        slow[i].fractions.map((v) => Math.round(v * 1e6)),
        `alpha ${alpha} image ${i}`,
      );
    }
    seen.push(fast);
  }
  assert.equal(engine.sessionsCreated, 1);
  // The test is only meaningful if α changes the masks.
  assert.notDeepEqual(seen[0], seen[1]);
  assert.deepEqual(seen[0], seen[2]);
});

Deno.test("SiEngine compiles a new graph once for concurrent requests that need it", async () => {
  const engine = await SiEngine.create(options);
  const s: ScoreSettings = {
    method: "si",
    alpha: 0.05,
    iterations: 3,
    loss: "ce",
    integrate: "add",
  };
  const [a, b, c] = await Promise.all([
    engine.score(input, s),
    engine.score(input, { ...s, alpha: 0.07 }),
    engine.score(input, s),
  ]);
  assert.equal(engine.sessionsCreated, 1);
  assert.deepEqual(a, c);
  assert.equal(b.length, N);
});
