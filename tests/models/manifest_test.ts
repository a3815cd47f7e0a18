import assert from "node:assert/strict";
import { ManifestError, parseManifest } from "../../src/models/manifest.ts";
import { splitPolicyOf } from "../../src/contract/scoring.ts";
import { DEFAULT_SETTINGS } from "../../src/contract/scoring.ts";

const bundled = JSON.parse(await Deno.readTextFile("models/fmnist-wrn40/manifest.json"));

function problems(json: unknown): readonly string[] {
  try {
    parseManifest(json, "manifest.json");
  } catch (e) {
    assert.ok(e instanceof ManifestError);
    return e.problems;
  }
  assert.fail("expected the manifest to be rejected");
}

Deno.test("parseManifest() accepts the bundled fmnist-wrn40 manifest", () => {
  const m = parseManifest(bundled, "models/fmnist-wrn40/manifest.json");
  assert.equal(m.labels.length, 10);
  assert.equal(m.labels[9], "Ankle boot");
  assert.deepEqual(m.input, { layout: "NCHW", channels: 3, height: 32, width: 32 });
  assert.deepEqual(m.defaults, { ...DEFAULT_SETTINGS, method: "fused" });
  assert.deepEqual(splitPolicyOf(m), { kind: "normalization+pool" });
});

Deno.test("parseManifest() fills defaults for optional fields", () => {
  const { defaults: _d, calibration: _c, description: _s, ...rest } = bundled;
  const pre = { ...bundled.preprocess };
  delete pre.background;
  const m = parseManifest({ ...rest, preprocess: pre }, "m.json");
  assert.deepEqual(m.defaults, DEFAULT_SETTINGS);
  assert.deepEqual(m.calibration, []);
  assert.equal(m.description, "");
  assert.equal(m.preprocess.background, 0);
});

Deno.test("parseManifest() reports every problem with its field path", () => {
  const bad = structuredClone(bundled);
  bad.preprocess.mean = "0.5";
  bad.model.sha256 = "abc";
  bad.labels = [];
  bad.input.layout = "NHWC";
  bad.defaults.alpha = "big";
  bad.extra = 1;
  const p = problems(bad);
  const has = (prefix: string) =>
    assert.ok(p.some((x) => x.startsWith(prefix)), `${prefix} in ${p}`);
  assert.ok(p.includes("preprocess.mean: expected array of numbers"), p.join("\n"));
  has("model.sha256: expected 64 lower-case hex digits");
  has("labels: expected at least 1 label");
  has("input.layout: ");
  has("defaults.alpha: ");
  has("(root): ");
  assert.equal(p.length, 6, p.join("\n"));
});

Deno.test("parseManifest() error message prefixes each problem with the source", () => {
  const bad = structuredClone(bundled);
  bad.preprocess.std = [0.3, -1];
  try {
    parseManifest(bad, "models/x/manifest.json");
    assert.fail("expected rejection");
  } catch (e) {
    assert.ok(e instanceof ManifestError);
    assert.match(
      e.message,
      /^models\/x\/manifest\.json: preprocess\.std: expected positive numbers/,
    );
  }
});

Deno.test("parseManifest() checks that pre-processing produces the input shape", () => {
  const bad = structuredClone(bundled);
  bad.preprocess.pad.left = 0;
  bad.preprocess.replicate = 1;
  const p = problems(bad);
  assert.ok(p.includes("preprocess.replicate: gives 1 channels but input.channels is 3"), `${p}`);
  assert.ok(
    p.includes("preprocess.resize: resize plus pad gives 32x30 but input is 32x32"),
    `${p}`,
  );
});

Deno.test("parseManifest() requires names for the tensors split policy and rejects path-like files", () => {
  const bad = structuredClone(bundled);
  bad.splits = { policy: "tensors" };
  bad.model.file = "../../etc/passwd";
  const p = problems(bad);
  assert.ok(p.includes('splits.names: required when policy is "tensors"'), `${p}`);
  assert.ok(p.includes("model.file: expected a plain file name"), `${p}`);
  const ok = structuredClone(bundled);
  ok.splits = { policy: "tensors", names: ["a", "b"] };
  assert.deepEqual(splitPolicyOf(parseManifest(ok, "m")), { kind: "tensors", names: ["a", "b"] });
});

Deno.test("parseManifest() reads the last-normalization policy with its count and pooled tensor", () => {
  const m = structuredClone(bundled);
  m.splits = { policy: "last-normalization", count: 4, pooled: "pool_out" };
  assert.deepEqual(splitPolicyOf(parseManifest(m, "m")), {
    kind: "last-normalization",
    count: 4,
    pooled: "pool_out",
  });
  m.splits = { policy: "last-normalization" };
  assert.deepEqual(splitPolicyOf(parseManifest(m, "m")), { kind: "last-normalization", count: 10 });
  m.splits = { policy: "normalization", count: 3 };
  assert.ok(
    problems(m).includes('splits.count: only allowed when policy is "last-normalization"'),
    `${problems(m)}`,
  );
  m.splits = { policy: "last-normalization", count: 0 };
  assert.ok(problems(m).includes("splits.count: expected a positive integer"), `${problems(m)}`);
});

Deno.test("parseManifest() accepts the bundled bit-tiny-fmnist manifest (S&I-A by default)", async () => {
  const json = JSON.parse(await Deno.readTextFile("models/bit-tiny-fmnist/manifest.json"));
  const m = parseManifest(json, "models/bit-tiny-fmnist/manifest.json");
  assert.equal(m.defaults.method, "si_a");
  assert.deepEqual(splitPolicyOf(m), {
    kind: "last-normalization",
    count: 10,
    pooled: "/before_head/avg/GlobalAveragePool_output_0",
  });
});

Deno.test("parseManifest() validates stored calibrations", () => {
  const bad = structuredClone(bundled);
  bad.calibration = [{
    method: "si",
    settings: {},
    threshold: "x",
    tpr: 0.95,
    scores: [1],
    count: 1,
    data: "d",
    created: "t",
  }];
  const p = problems(bad);
  assert.ok(p.some((x) => x.startsWith("calibration[0].threshold: ")), `${p}`);
});

/** The bundled manifest turned into a 224-pixel photo model (shorter side 256, crop 224). */
function photoManifest() {
  const m = structuredClone(bundled);
  m.input = { layout: "NCHW", channels: 3, height: 224, width: 224 };
  m.preprocess = {
    color: "rgb",
    resize: { shorter: 256, method: "bilinear", arithmetic: "pillow" },
    crop: { width: 224, height: 224 },
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  };
  return m;
}

Deno.test("parseManifest() accepts a shorter-side resize with a center crop", () => {
  const m = parseManifest(photoManifest(), "m");
  assert.deepEqual(m.preprocess.resize, { shorter: 256, method: "bilinear", arithmetic: "pillow" });
  assert.deepEqual(m.preprocess.crop, { width: 224, height: 224 });
  const old = parseManifest(bundled, "m");
  assert.equal(old.preprocess.crop, undefined, "manifests without a crop get none");
  assert.deepEqual(old.preprocess.resize, { width: 32 - 4, height: 28, method: "area" });
});

Deno.test("parseManifest() rejects inconsistent resize and crop settings", () => {
  const noCrop = photoManifest();
  delete noCrop.preprocess.crop;
  assert.ok(
    problems(noCrop).includes(
      "preprocess.crop: required when resize gives the shorter side (the size varies)",
    ),
  );
  const tooBig = photoManifest();
  tooBig.preprocess.crop = { width: 300, height: 224 };
  assert.ok(
    problems(tooBig).includes("preprocess.crop: 224x300 does not fit in the resized 256x256"),
  );
  const both = photoManifest();
  both.preprocess.resize.width = 256;
  assert.ok(problems(both).includes("preprocess.resize: expected width and height, or shorter"));
  const area = photoManifest();
  area.preprocess.resize.method = "area";
  assert.ok(
    problems(area).includes(
      'preprocess.resize.arithmetic: pillow arithmetic needs method "bilinear" or "bicubic"',
    ),
  );
  const wrong = photoManifest();
  wrong.preprocess.crop = { width: 200, height: 224 };
  assert.ok(
    problems(wrong).includes("preprocess.crop: crop plus pad gives 224x200 but input is 224x224"),
  );
});
