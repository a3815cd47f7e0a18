/**
 * The torchvision zoo, small members, end to end: exported by tools/zoo/export.py from Debian's
 * torchvision (random weights, fixed seed; python3-torchvision is in .ci/run's package list),
 * imported as a user would (`deno task import --preset imagenet`), then
 * - `energy` on four photos equals torch's (its own pre-processing and forward pass) within
 *   1e-5 relative;
 * - the compiled gradient graph (∂Σ R·logits/∂input) passes a sampled finite-difference check;
 * - `energy`, `si_a`, `gaia_a` and `si` give finite scores that depend on the image.
 * shufflenet_v2 covers the folded shape arithmetic (its channel split), mobilenet_v3_small the
 * hard-swish/squeeze-excite head.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { main as importModel } from "../../src/cli/import.ts";
import { loadModel } from "../../src/models/loader.ts";
import { createLazyScorer } from "../../src/engine/engine.ts";
import { fdErrors } from "../../tools/zoo/fd_check.ts";
import { bundledModel, engineGraphs } from "../runtime/optimizer_guard.ts";
import { readInputs } from "../../src/inputs/mod.ts";
import type { Method } from "../../src/contract/scoring.ts";
import { DEFAULT_SETTINGS } from "../../src/contract/scoring.ts";

const ARCHS = ["shufflenet_v2_x1_0", "mobilenet_v3_small"];
const PHOTOS = "tests/fixtures/zoo/photos";

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const [log, error] = [console.log, console.error];
  console.log = console.error = () => {};
  try {
    return await fn();
  } finally {
    [console.log, console.error] = [log, error];
  }
}

/** Exports the architectures with torch; returns the folder of `<arch>.onnx` + `<arch>.json`. */
async function exportZoo(dir: string): Promise<void> {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: ["tools/zoo/export.py", dir, PHOTOS, ARCHS.join(",")],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.ok(
    out.success,
    `tools/zoo/export.py failed (needs Debian's python3-torchvision, see .ci/run):\n${err}`,
  );
}

const root = await Deno.makeTempDir({ prefix: "zoo-test-" });
await exportZoo(root);
const photos: { name: string; data: Float32Array }[] = [];

for (const arch of ARCHS) {
  Deno.test(`zoo ${arch}: imports with --preset imagenet and energy equals torch's`, async () => {
    const code = await quietly(() =>
      importModel([
        join(root, `${arch}.onnx`),
        ...["--preset", "imagenet", "--models-dir", root, "--backend", "native"],
      ])
    );
    assert.equal(code, 0);
    const model = await loadModel(join(root, arch), {
      backend: "native",
      createScorer: createLazyScorer,
    });
    const torch = JSON.parse(await Deno.readTextFile(join(root, `${arch}.json`)));
    photos.length = 0;
    for await (const item of readInputs([PHOTOS])) {
      photos.push({ name: item.name.split("/").pop()!, data: model.preprocess(item.image) });
    }
    assert.equal(photos.length, 4);
    const [c, h, w] = model.inputDims;
    const data = new Float32Array(photos.length * c * h * w);
    photos.forEach((p, i) => data.set(p.data, i * c * h * w));
    const batch = { data, dims: [photos.length, c, h, w] as [number, number, number, number] };
    const scores: Record<string, number[]> = {};
    for (const method of ["energy", "si_a", "gaia_a", "si"] as Method[]) {
      const r = await model.scorer.score(batch, { ...DEFAULT_SETTINGS, method });
      scores[method] = r.map((s) => s.score);
      for (const s of r) assert.ok(Number.isFinite(s.score) && !s.error, `${method}: ${s.error}`);
      assert.ok(new Set(scores[method]).size > 1, `${method} depends on the image`);
    }
    photos.forEach((p, i) => {
      const ref = torch.energy[p.name];
      const rel = Math.abs(scores.energy[i] - ref) / Math.abs(ref);
      assert.ok(rel <= 1e-5, `${p.name}: energy ${scores.energy[i]} vs torch ${ref} (${rel})`);
    });
  });

  Deno.test(`zoo ${arch}: the compiled input-gradient graph passes a sampled FD check`, async () => {
    await fdCheck(arch);
  });

  Deno.test(`zoo ${arch}: every method also compiles on the engine's own thread`, async () => {
    // engineGraphs() compiles with compileInWorker: false, where the Graph must carry the shapes
    // for shape arithmetic to fold (shufflenet's channel split failed there before).
    const { graphs, skipped } = await engineGraphs(await bundledModel(join(root, arch)));
    const labels = graphs.map((g) => g.label);
    for (const m of ["forward", "energy", "si", "si_a", "gaia_a"]) assert.ok(labels.includes(m), m);
    assert.deepEqual(skipped.filter((s) => !s.startsWith("gradnorm")), []);
  });
}

/** The sampled FD check of tools/zoo/fd_check.ts on two photos (best of three steps). */
async function fdCheck(arch: string): Promise<void> {
  const bytes = await Deno.readFile(join(root, `${arch}.onnx`));
  const errors = await fdErrors(bytes, photos.map((p) => p.data), [3, 224, 224]);
  for (const [i, e] of errors.entries()) {
    assert.ok(e < 5e-3, `${arch} ${photos[i].name}: FD relative error ${e}`);
  }
}

Deno.test({
  name: "zoo: clean up the exported models",
  sanitizeResources: false,
  fn: async () => await Deno.remove(root, { recursive: true }),
});
