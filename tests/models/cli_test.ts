import assert from "node:assert/strict";
import { join } from "node:path";
import { main as calibrate } from "../../src/cli/calibrate.ts";
import { main as importModel } from "../../src/cli/import.ts";
import { parseManifest } from "../../src/models/manifest.ts";
import { discoverModels } from "../../src/models/loader.ts";
import type { ScorerFactory } from "../../src/contract/scoring.ts";
import type { InputBatch } from "../../src/contract/scoring.ts";

const ID = "u8:tests/fixtures/wrn40-fmnist/id-fmnist.u8:28x28";

/** Scores by the mean input value (deterministic stand-in for the engine). */
const fakeEngine: ScorerFactory = () =>
  Promise.resolve({
    splits: () => [],
    score(batch: InputBatch) {
      const n = batch.dims[0], per = batch.data.length / n;
      return Promise.resolve(Array.from({ length: n }, (_, i) => ({
        score: batch.data.subarray(i * per, (i + 1) * per).reduce((a, b) => a + b, 0) / per,
        class: 1,
        confidence: 0.5,
      })));
    },
  });

/** Runs fn with console output captured (the CLIs print progress and results). */
async function quiet<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; out: string[]; err: string[] }> {
  const out: string[] = [], err: string[] = [];
  const { log, error } = console;
  const write = Deno.stderr.writeSync;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  Deno.stderr.writeSync = (p: Uint8Array) => p.length;
  try {
    return { result: await fn(), out, err };
  } finally {
    console.log = log;
    console.error = error;
    Deno.stderr.writeSync = write;
  }
}

async function inTemp(fn: (root: string) => Promise<void>) {
  const root = await Deno.makeTempDir();
  try {
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("calibrate main() stores a reproducible calibration in the manifest", async () => {
  await inTemp(async (root) => {
    const dir = join(root, "fmnist-wrn40");
    await Deno.mkdir(dir);
    await writeUncalibratedManifest(join(dir, "manifest.json"));
    await Deno.symlink(join(Deno.cwd(), "models/fmnist-wrn40/model.onnx"), join(dir, "model.onnx"));
    const args = ["--model", dir, "--id", `${ID}[0:60]`, "--backend", "wasm", "--batch", "16"];
    const first = await quiet(() => calibrate(args, fakeEngine));
    assert.equal(first.result, 0, first.err.join("\n"));
    const a = parseManifest(JSON.parse(await Deno.readTextFile(join(dir, "manifest.json"))), "m");
    assert.equal(a.calibration.length, 1);
    assert.equal(a.calibration[0].count, 60);
    assert.equal(a.calibration[0].data, `${ID}[0:60]`);
    assert.equal(JSON.parse(first.out[0]).threshold, a.calibration[0].threshold);
    const second = await quiet(() => calibrate([...args, "--limit", "60"], fakeEngine));
    assert.equal(second.result, 0);
    const b = parseManifest(JSON.parse(await Deno.readTextFile(join(dir, "manifest.json"))), "m");
    assert.equal(b.calibration.length, 1, "same method and settings replace the entry");
    assert.equal(b.calibration[0].threshold, a.calibration[0].threshold);
    assert.deepEqual(b.calibration[0].scores, a.calibration[0].scores);
  });
});

Deno.test("calibrate main() --method fused stores component distributions and threshold fits", async () => {
  await inTemp(async (root) => {
    const dir = join(root, "fmnist-wrn40");
    await Deno.mkdir(dir);
    await writeUncalibratedManifest(join(dir, "manifest.json"));
    await Deno.symlink(join(Deno.cwd(), "models/fmnist-wrn40/model.onnx"), join(dir, "model.onnx"));
    // The fake's energy is its score's square: a second, differently ordered component.
    const withEnergy: ScorerFactory = async (args) => {
      const inner = await fakeEngine(args);
      return {
        splits: inner.splits,
        score: async (b, s) =>
          (await inner.score(b, s)).map((r) => ({ ...r, energy: (r.score - 0.5) ** 2 })),
      };
    };
    const args = ["--model", dir, "--id", `${ID}[0:40]`, "--method", "fused", "--backend", "wasm"];
    const r = await quiet(() => calibrate(args, withEnergy));
    assert.equal(r.result, 0, r.err.join("\n"));
    const m = parseManifest(JSON.parse(await Deno.readTextFile(join(dir, "manifest.json"))), "m");
    const cal = m.calibration[0];
    assert.equal(cal.method, "fused");
    assert.deepEqual(cal.components!.map((c) => [c.method, c.count]), [["si", 40], ["energy", 40]]);
    const printed = JSON.parse(r.out[0]);
    assert.equal(printed.threshold, cal.threshold);
    assert.equal(printed.threshold_schemes.leaveOneOut, cal.threshold);
    assert.ok(printed.threshold_schemes.inSample >= cal.threshold);
  });
});

Deno.test("calibrate main() skips excluded images and records it in the data description", async () => {
  await inTemp(async (root) => {
    const dir = join(root, "fmnist-wrn40");
    await Deno.mkdir(dir);
    await writeUncalibratedManifest(join(dir, "manifest.json"));
    await Deno.symlink(join(Deno.cwd(), "models/fmnist-wrn40/model.onnx"), join(dir, "model.onnx"));
    const args = [
      "--model",
      dir,
      "--id",
      `${ID}[0:30]`,
      "--exclude",
      `${ID}[20:40]`,
      "--backend",
      "wasm",
    ];
    const r = await quiet(() => calibrate(args, fakeEngine));
    assert.equal(r.result, 0, r.err.join("\n"));
    const m = parseManifest(JSON.parse(await Deno.readTextFile(join(dir, "manifest.json"))), "m");
    assert.equal(m.calibration[0].count, 20);
    assert.equal(m.calibration[0].data, `${ID}[0:30] excluding ${ID}[20:40]`);
  });
});

Deno.test("calibrate main() rejects bad flags with exit code 2", async () => {
  for (
    const args of [
      ["--id", ID],
      ["--model", "models/fmnist-wrn40"],
      ["--model", "models/fmnist-wrn40", "--id", ID, "--alpha", "x"],
      ["--model", "models/fmnist-wrn40", "--id", ID, "--method", "nope"],
      ["--model", "models/fmnist-wrn40", "--id", ID, "--bogus"],
    ]
  ) {
    const r = await quiet(() => calibrate(args, fakeEngine));
    assert.equal(r.result, 2, args.join(" "));
    assert.ok(r.err.join("\n").includes("Usage: deno task calibrate"));
  }
});

Deno.test("import main() drafts, checks and calibrates the fixture's folded model", async () => {
  await inTemp(async (root) => {
    const labels = "T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot";
    const args = [
      "tests/fixtures/wrn40-fmnist/model.folded.onnx",
      ...["--name", "wrn-folded", "--models-dir", root, "--backend", "wasm", "--labels", labels],
      ...[
        "--color",
        "gray",
        "--pad",
        "2",
        "--mean",
        "0.286",
        "--std",
        "0.353",
        "--id",
        `${ID}[0:30]`,
      ],
    ];
    const r = await quiet(() => importModel(args, fakeEngine));
    assert.equal(r.result, 0, r.err.join("\n"));
    const m = parseManifest(
      JSON.parse(await Deno.readTextFile(join(root, "wrn-folded", "manifest.json"))),
      "m",
    );
    assert.equal(
      m.model.sha256,
      "c06a7ca2d83dd53e93fd249d586f2c3510298cc0c46f4aea146878aa34e06213",
    );
    assert.equal(m.labels[9], "Ankle boot");
    assert.deepEqual(m.preprocess.resize, { width: 28, height: 28, method: "area" });
    assert.equal(m.calibration[0].count, 30);
    const again = await quiet(() => importModel(args, fakeEngine));
    assert.equal(again.result, 2, "an existing folder is not overwritten without --force");
    assert.match(again.err.join("\n"), /already exists/);
  });
});

Deno.test("import main() keeps the drafted manifest, not a servable folder, when compiling fails", async () => {
  await inTemp(async (root) => {
    const broken: ScorerFactory = () =>
      Promise.reject(new Error('No gradient rule for op "Sin" (Sin node "s")'));
    const args = [
      "tests/fixtures/wrn40-fmnist/model.folded.onnx",
      "--name",
      "x",
      "--models-dir",
      root,
      "--backend",
      "wasm",
    ];
    await assert.rejects(
      quiet(() => importModel(args, broken)),
      /op "Sin" \(Sin node "s"\)\nWhat you can do: choose split tensors downstream of that node/,
    );
    const draft = JSON.parse(await Deno.readTextFile(join(root, "x", "manifest.draft.json")));
    assert.equal(draft.name, "x");
    await assert.rejects(Deno.stat(join(root, "x", "manifest.json")), Deno.errors.NotFound);
    assert.deepEqual(await discoverModels(root), [], "the loader does not pick the folder up");
  });
});

Deno.test("import main() --preset imagenet drafts torchvision's ImageNet transform and S&I-A", async () => {
  await inTemp(async (root) => {
    const args = [
      "tests/fixtures/wrn40-fmnist/model.folded.onnx",
      ...["--name", "photo", "--models-dir", root, "--backend", "wasm", "--preset", "imagenet"],
    ];
    const seen: string[] = [];
    const engine: ScorerFactory = async (a) => {
      seen.push(a.manifest.defaults.method);
      return await fakeEngine(a);
    };
    const r = await quiet(() => importModel(args, engine));
    assert.equal(r.result, 0, r.err.join("\n"));
    const json = JSON.parse(await Deno.readTextFile(join(root, "photo", "manifest.json")));
    // The fixture's input is 32×32: shorter side round(32·256/224) = 37, then the 32×32 crop.
    assert.deepEqual(json.preprocess, {
      color: "rgb",
      background: 0,
      resize: { shorter: 37, method: "bilinear", arithmetic: "pillow" },
      crop: { width: 32, height: 32 },
      scale: 1 / 255,
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      replicate: 1,
    });
    assert.deepEqual(json.splits, { policy: "last-normalization", count: 10 });
    assert.equal(json.defaults.method, "si_a");
    assert.equal(json.provenance.preset, "imagenet");
    assert.deepEqual(seen, ["si_a"], "the test score ran with the preset's method");
    parseManifest(json, "photo/manifest.json");
  });
});

Deno.test("import main() lets flags override the preset and rejects what it cannot do", async () => {
  await inTemp(async (root) => {
    const model = "tests/fixtures/wrn40-fmnist/model.folded.onnx";
    const common = ["--models-dir", root, "--backend", "wasm", "--preset", "imagenet"];
    const args = [model, "--name", "bicubic", ...common, "--resize-method", "bicubic"];
    const r = await quiet(() =>
      importModel([...args, "--mean", "0.5", "--std", "0.5"], fakeEngine)
    );
    assert.equal(r.result, 0, r.err.join("\n"));
    const json = JSON.parse(await Deno.readTextFile(join(root, "bicubic", "manifest.json")));
    assert.equal(json.preprocess.resize.method, "bicubic");
    assert.deepEqual([json.preprocess.mean, json.preprocess.std], [[0.5], [0.5]]);
    const bad = await quiet(() => importModel([model, ...common, "--preset", "cifar"], fakeEngine));
    assert.equal(bad.result, 2);
    assert.match(bad.err.join("\n"), /--preset: expected one of imagenet, got "cifar"/);
    await assert.rejects(
      quiet(() => importModel([model, "--name", "p", ...common, "--pad", "2"], fakeEngine)),
      /the imagenet preset does not pad/,
    );
  });
});

/** The bundled manifest without its calibrations, so tests start from a known state. */
/** The bundled manifest without calibrations, defaulting to S&I (the fake engine has no energy). */
async function writeUncalibratedManifest(path: string): Promise<void> {
  const manifest = JSON.parse(await Deno.readTextFile("models/fmnist-wrn40/manifest.json"));
  const defaults = { ...manifest.defaults, method: "si" };
  await Deno.writeTextFile(
    path,
    JSON.stringify({ ...manifest, defaults, calibration: [] }, null, 2),
  );
}
