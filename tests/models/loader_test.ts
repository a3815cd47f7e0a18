import assert from "node:assert/strict";
import { join } from "node:path";
import { ManifestError } from "../../src/models/manifest.ts";
import { loadModel, type LoadOptions, sha256Hex, startRegistry } from "../../src/models/loader.ts";
import { createRegistry } from "../helpers/registry.ts";
import { isModelId } from "../../src/contract/model_id.ts";
import type { ScorerFactory } from "../../src/contract/scoring.ts";
import { DEFAULT_SETTINGS, type Scorer } from "../../src/contract/scoring.ts";

const bundledManifest = JSON.parse(await Deno.readTextFile("models/fmnist-wrn40/manifest.json"));

/** Records what it was asked to build and returns an inert scorer. */
function fakeFactory(calls: Parameters<ScorerFactory>[0][] = []): ScorerFactory {
  return (args) => {
    calls.push(args);
    const scorer: Scorer = { splits: () => [], score: () => Promise.resolve([]) };
    return Promise.resolve(scorer);
  };
}

/** A model dir with a small stand-in model file and a manifest pointing at it. */
async function makeModelDir(
  root: string,
  id: string,
  patch: (m: typeof bundledManifest) => void = () => {},
) {
  const dir = join(root, id);
  await Deno.mkdir(dir, { recursive: true });
  const bytes = new TextEncoder().encode(`model ${id}`);
  await Deno.writeFile(join(dir, "model.onnx"), bytes);
  const m = structuredClone(bundledManifest);
  m.name = id;
  m.model.sha256 = await sha256Hex(bytes);
  patch(m);
  await Deno.writeTextFile(join(dir, "manifest.json"), JSON.stringify(m));
  return dir;
}

Deno.test("sha256Hex() matches a known digest", async () => {
  assert.equal(
    await sha256Hex(new TextEncoder().encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("loadModel() loads the bundled model and hands the factory its inputs", async () => {
  const calls: Parameters<ScorerFactory>[0][] = [];
  const m = await loadModel("models/fmnist-wrn40", {
    backend: "wasm",
    createScorer: fakeFactory(calls),
  });
  assert.equal(m.id, "fmnist-wrn40");
  assert.deepEqual(m.inputDims, [3, 32, 32]);
  assert.equal(m.labels[0], "T-shirt/top");
  // The bundled model defaults to fused (docs/evaluation.md: it wins on average there).
  assert.deepEqual(m.defaults, { ...DEFAULT_SETTINGS, method: "fused" });
  assert.equal(calls.length, 1);
  assert.equal(
    calls[0].modelBytes.length,
    (await Deno.stat("models/fmnist-wrn40/model.onnx")).size,
  );
  assert.deepEqual(calls[0].inputDims, [3, 32, 32]);
  assert.equal(calls[0].backend, "wasm");
  assert.equal(calls[0].cacheDir, "models/fmnist-wrn40"); // the engine adds .cache/ itself
  const x = m.preprocess({ width: 28, height: 28, data: new Uint8Array(28 * 28 * 4).fill(255) });
  assert.equal(x.length, 3 * 32 * 32);
  assert.equal(x[0], Math.fround(Math.fround(0 - Math.fround(0.286)) / Math.fround(0.353)));
});

Deno.test("loadModel() rejects a model file whose sha256 differs, naming both hashes", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = await makeModelDir(root, "m1");
    const expected = bundledManifest.model.sha256;
    await Deno.writeTextFile(
      join(dir, "manifest.json"),
      JSON.stringify({ ...bundledManifest, model: { ...bundledManifest.model, sha256: expected } }),
    );
    const actual = await sha256Hex(new TextEncoder().encode("model m1"));
    await assert.rejects(
      loadModel(dir, { backend: "wasm", createScorer: fakeFactory() }),
      (e: Error) =>
        e.message.includes(actual) && e.message.includes(expected) && e.message.includes('"m1"'),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("loadModel() reports missing and invalid manifests clearly", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(root, "empty"));
    await assert.rejects(
      loadModel(join(root, "empty"), { backend: "wasm", createScorer: fakeFactory() }),
      /manifest\.json not found/,
    );
    const dir = await makeModelDir(root, "bad", (m) => (m.preprocess.mean = "x"));
    await assert.rejects(
      loadModel(dir, { backend: "wasm", createScorer: fakeFactory() }),
      (e: Error) =>
        e instanceof ManifestError &&
        e.message.includes("preprocess.mean: expected array of numbers"),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("loadModel() finds the calibration matching method and settings", async () => {
  const root = await Deno.makeTempDir();
  try {
    const cal = {
      method: "si",
      settings: DEFAULT_SETTINGS,
      threshold: -0.3,
      tpr: 0.95,
      scores: [-0.4, -0.3, -0.2],
      count: 3,
      data: "test",
      created: "2026-01-01T00:00:00Z",
    };
    const dir = await makeModelDir(root, "cal", (m) => (m.calibration = [cal]));
    const m = await loadModel(dir, { backend: "wasm", createScorer: fakeFactory() });
    assert.equal(m.calibrationFor(DEFAULT_SETTINGS)?.threshold, -0.3);
    assert.equal(m.calibrationFor({ ...DEFAULT_SETTINGS, alpha: 0.01 }), undefined);
    assert.equal(m.calibrationFor({ ...DEFAULT_SETTINGS, method: "msp" }), undefined);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("isModelId() accepts simple names and refuses paths", () => {
  for (const id of ["fmnist-wrn40", "a", "m.v2_b"]) assert.ok(isModelId(id), id);
  for (const id of ["", "..", "../x", "a/b", "A", "-x", ".hidden", "x".repeat(65), "a\0"]) {
    assert.ok(!isModelId(id), JSON.stringify(id));
  }
});

Deno.test("createRegistry() discovers valid model dirs in a stable order and serves two models", async () => {
  const root = await Deno.makeTempDir();
  try {
    await makeModelDir(root, "zeta");
    await makeModelDir(root, "alpha");
    await Deno.mkdir(join(root, "Not An Id"));
    await Deno.writeTextFile(join(root, "Not An Id", "manifest.json"), "{}");
    await Deno.mkdir(join(root, "no-manifest"));
    const reg = await createRegistry(root, "all", { backend: "wasm", createScorer: fakeFactory() });
    assert.ok(reg.ready);
    assert.deepEqual(reg.list().map((m) => m.id), ["alpha", "zeta"]);
    assert.equal(reg.get("zeta")?.manifest.name, "zeta");
    assert.equal(reg.get("../zeta"), undefined);
    assert.equal(reg.get("missing"), undefined);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("createRegistry() gives each model an equal share of the memory budget", async () => {
  const root = await Deno.makeTempDir();
  try {
    for (const id of ["a", "b", "c"]) await makeModelDir(root, id);
    const calls: Parameters<ScorerFactory>[0][] = [];
    await createRegistry(root, "all", {
      backend: "wasm",
      createScorer: fakeFactory(calls),
      memoryBudgetMb: 3000,
    });
    assert.deepEqual(calls.map((c) => c.memoryBudgetMb), [1000, 1000, 1000]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("createRegistry() validates ids before touching the filesystem", async () => {
  await assert.rejects(
    createRegistry("/nonexistent-root", ["ok", "../etc"], {
      backend: "wasm",
      createScorer: fakeFactory(),
    }),
    /Invalid model id "\.\.\/etc"/,
  );
});

Deno.test("startRegistry() returns at once, waits for its options and keeps the load error", async () => {
  const root = await Deno.makeTempDir();
  try {
    let resolve!: (o: LoadOptions) => void;
    const opts = new Promise<LoadOptions>((r) => resolve = r);
    const { registry, loaded } = startRegistry(root, "all", opts);
    assert.equal(registry.ready, false);
    assert.equal(registry.error, undefined);
    resolve({ backend: "wasm", createScorer: fakeFactory() });
    await assert.rejects(loaded, /No models found in /);
    assert.equal(registry.ready, false);
    assert.match(String(registry.error), /No models found in /);
    assert.deepEqual(registry.list(), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("createRegistry() loads the bundled model next to the fixture's folded model", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(root, "fmnist-wrn40-folded"));
    await Deno.copyFile(
      "tests/fixtures/wrn40-fmnist/model.folded.onnx",
      join(root, "fmnist-wrn40-folded", "model.onnx"),
    );
    const m = structuredClone(bundledManifest);
    m.name = "fmnist-wrn40-folded";
    m.model.sha256 = "c06a7ca2d83dd53e93fd249d586f2c3510298cc0c46f4aea146878aa34e06213";
    await Deno.writeTextFile(join(root, "fmnist-wrn40-folded", "manifest.json"), JSON.stringify(m));
    await Deno.symlink(join(Deno.cwd(), "models/fmnist-wrn40"), join(root, "fmnist-wrn40"));
    const calls: Parameters<ScorerFactory>[0][] = [];
    const reg = await createRegistry(root, ["fmnist-wrn40", "fmnist-wrn40-folded"], {
      backend: "wasm",
      createScorer: fakeFactory(calls),
      cacheDir: join(root, "cache"),
    });
    assert.deepEqual(reg.list().map((x) => x.id), ["fmnist-wrn40", "fmnist-wrn40-folded"]);
    assert.notEqual(calls[0].modelBytes.length, calls[1].modelBytes.length);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
