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
import { createLazyScorer, SiEngine } from "../../src/engine/engine.ts";
import { readInputs } from "../../src/inputs/mod.ts";
import type { Method } from "../../src/contract/scoring.ts";
import { DEFAULT_SETTINGS } from "../../src/contract/scoring.ts";
import { gradientModel } from "../../src/grad/gradient_model.ts";
import { readModel, writeModel } from "../../src/onnx/proto.ts";
import { getRuntime } from "../../src/runtime/runtime.ts";
import { mulberry32 } from "../../src/inputs/noise.ts";

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
}

/**
 * f(x) = Σ R·logits(x) with a fixed random R; g its compiled gradient at a photo. Along
 * v = g/|g|∞ (+ noise), the central difference f(x + hv) − f(x − hv) must match gᵀ(2hv).
 * The photo gets ±0.02 of uniform noise first: flat regions of an 8-bit photo give exactly equal
 * activations, so MaxPool windows hold exact ties where f is not differentiable (measured on
 * resnet18: 1.1 % FD error at every h down to 3e-5 on the raw photo, 5e-4 with the noise). The
 * remaining error comes from ReLU kinks crossed by the step (it shrinks with h) and float32
 * rounding (it grows as h shrinks); h = 1e-4 balances them, and the bound is 10× the error
 * measured there.
 */
async function fdCheck(arch: string): Promise<void> {
  const bytes = await Deno.readFile(join(root, `${arch}.onnx`));
  const engine = await SiEngine.create({
    modelBytes: bytes,
    backend: "native",
    inputDims: [3, 224, 224],
    splitPolicy: { kind: "normalization" },
  });
  const gm = gradientModel(readModel(bytes), engine.shapes, ["input"]);
  const rt = await getRuntime("native");
  const session = await rt.createSession(writeModel(gm.model));
  const rand = mulberry32(5);
  const r = Float32Array.from({ length: 1000 }, () => rand() * 2 - 1);
  try {
    for (const photo of photos.slice(0, 2)) {
      const x = photo.data.map((v) => v + 0.02 * (rand() * 2 - 1)), dims = [1, 3, 224, 224];
      const feeds = (v: Float32Array) => ({
        input: { type: "float32" as const, dims, data: v },
        [gm.seed]: { type: "float32" as const, dims: [1, 1000], data: r },
      });
      const out = await session.run(feeds(x));
      const g = out[gm.grads.get("input")!].data as Float32Array;
      let gMax = 0;
      for (const v of g) gMax = Math.max(gMax, Math.abs(v));
      assert.ok(gMax > 0, "the input gradient is not identically zero");
      const h = 1e-4;
      const xp = new Float32Array(x.length), xm = new Float32Array(x.length);
      for (let k = 0; k < x.length; k++) {
        const v = g[k] / gMax + 0.3 * (rand() * 2 - 1);
        xp[k] = x[k] + h * v;
        xm[k] = x[k] - h * v;
      }
      let an = 0;
      for (let k = 0; k < x.length; k++) an += g[k] * (xp[k] - xm[k]);
      const f = async (v: Float32Array) => {
        const y = (await session.run(feeds(v), [gm.output]))[gm.output].data as Float32Array;
        let s = 0;
        for (let k = 0; k < y.length; k++) s += r[k] * y[k];
        return s;
      };
      const fd = (await f(xp)) - (await f(xm));
      const rel = Math.abs(fd - an) / Math.abs(an);
      assert.ok(rel < 5e-3, `${arch} ${photo.name}: FD ${fd} vs analytic ${an} (rel ${rel})`);
    }
  } finally {
    await session.release();
  }
}

Deno.test({
  name: "zoo: clean up the exported models",
  sanitizeResources: false,
  fn: async () => await Deno.remove(root, { recursive: true }),
});
