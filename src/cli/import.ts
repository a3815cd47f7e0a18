/**
 * `deno task import <model.onnx> [--name <id>] [--labels a,b,...] [--id <inputs>] [options]`:
 * turns an exported classifier into `models/<id>/`: drafts the manifest from the graph and the
 * flags, copies the model, compiles and test-scores it, then calibrates on the ID inputs.
 * @module
 */
import { basename, join } from "node:path";
import { countInputs, readInputs } from "../inputs/mod.ts";
import { calibrateModel, formatJson, saveCalibration } from "../models/calibrate_run.ts";
import {
  backendFromFlags,
  COMMON_USAGE,
  intFlag,
  parseFlags,
  settingsFromFlags,
  UsageError,
} from "./args.ts";
import { draftManifest, graphFacts } from "../models/draft.ts";
import { isModelId, loadModel, sha256Hex } from "../models/loader.ts";
import { parseManifest } from "../models/manifest.ts";
import type { ScorerFactory } from "../contract/scoring.ts";
import { createLazyScorer } from "../si/engine.ts";
import { runMain } from "./run_main.ts";

const USAGE = `Usage: deno task import <model.onnx> [options]

  --name <id>           model id and folder name (default: the file name)
  --labels a,b,...      class names (default: class_0, class_1, ...)
  --color gray|rgb      colour of the training images (default: gray for 1 channel, else rgb)
  --pad <N>             pixels of padding on every side (resize target = input size − 2N)
  --mean a[,b,c] --std a[,b,c]   normalization after /255 (default 0 and 1)
  --resize-method area|bilinear  (default area)
  --splits normalization|normalization+pool
  --models-dir <dir>    where model folders live (default: models)
  --force               overwrite an existing model folder
${COMMON_USAGE}
  (--id is optional here; without it the model is imported but not calibrated)

Example: deno task import wrn.onnx --name my-wrn --color gray --pad 2 --mean 0.286 --std 0.353 \\
           --labels "T-shirt/top,Trouser,..." --id "fmnist:test[5000:10000]"`;

const IMPORT_FLAGS = {
  name: { type: "string" },
  labels: { type: "string" },
  color: { type: "string" },
  pad: { type: "string" },
  mean: { type: "string" },
  std: { type: "string" },
  "resize-method": { type: "string" },
  splits: { type: "string" },
  "models-dir": { type: "string" },
  force: { type: "boolean" },
} as const;

function numberList(flag: string, v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  const xs = v.split(",").map((s) => Number(s.trim()));
  if (xs.some((x) => !Number.isFinite(x))) {
    throw new UsageError(`--${flag}: expected numbers, got "${v}"`);
  }
  return xs;
}

function padFlag(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    throw new UsageError(`--pad: expected an integer ≥ 0, got "${v}"`);
  }
  return n;
}

function oneOf<T extends string>(
  flag: string,
  v: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) {
    throw new UsageError(`--${flag}: expected ${allowed.join(" or ")}, got "${v}"`);
  }
  return v as T;
}

/** Runs the command; returns the exit code. */
export async function main(argv: readonly string[], createScorer?: ScorerFactory): Promise<number> {
  let created: string | undefined;
  try {
    const { values: f, positionals } = parseFlags(argv, IMPORT_FLAGS);
    if (f.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError("expected exactly one <model.onnx>");
    const source = positionals[0];
    const id = f.name ??
      basename(source).replace(/\.onnx$/i, "").toLowerCase().replace(/[^a-z0-9._-]+/g, "-");
    if (!isModelId(id)) {
      throw new UsageError(`--name: "${id}" is not a valid model id (a-z, 0-9, . _ -)`);
    }
    const bytes = await Deno.readFile(source);
    const facts = graphFacts(bytes, source);
    const draft = draftManifest(facts, {
      id,
      sha256: await sha256Hex(bytes),
      source: basename(source),
      labels: f.labels?.split(",").map((s) => s.trim()),
      color: oneOf("color", f.color, ["gray", "rgb"] as const),
      pad: padFlag(f.pad),
      mean: numberList("mean", f.mean),
      std: numberList("std", f.std),
      resizeMethod: oneOf("resize-method", f["resize-method"], ["area", "bilinear"] as const),
      splits: oneOf("splits", f.splits, ["normalization", "normalization+pool"] as const),
      created: new Date().toISOString(),
    });
    const manifest = parseManifest(draft, `${id}/manifest.json (draft)`);
    const settings = settingsFromFlags(f, manifest.defaults);
    const limit = intFlag(f, "limit");
    const batch = intFlag(f, "batch", 32)!;
    const backend = await backendFromFlags(f);

    const dir = join(f["models-dir"] ?? "models", id);
    try {
      await Deno.stat(dir);
      if (!f.force) throw new UsageError(`${dir} already exists; pass --force to overwrite`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      created = dir;
    }
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeFile(join(dir, "model.onnx"), bytes);
    await Deno.writeTextFile(join(dir, "manifest.json"), formatJson(draft));
    console.error(
      `Drafted ${dir}: input ${facts.input} [${facts.dims}], output ${facts.output}, ` +
        `${facts.normalizationNodes} BatchNormalization nodes, splits ${manifest.splits.policy}`,
    );

    // Compiling the gradient graphs and scoring one image proves the model works end to end.
    const model = await loadModel(dir, {
      backend,
      createScorer: createScorer ?? createLazyScorer,
    });
    const [c, h, w] = model.inputDims;
    const probe = model.preprocess({
      width: w,
      height: h,
      data: new Uint8Array(w * h * 4).fill(128),
    });
    const [r] = await model.scorer.score({ data: probe, dims: [1, c, h, w] }, settings);
    if (!r || !Number.isFinite(r.score) || r.class >= manifest.labels.length) {
      throw new Error(`Cannot import "${source}": a test image scored ${JSON.stringify(r)}`);
    }
    console.error(`Compiled and test-scored on ${backend}: score ${r.score}, class ${r.class}`);
    created = undefined; // the folder is now a working model; keep it even if calibration fails

    if (f.id?.length) {
      const total = Math.min(await countInputs(f.id), limit ?? Infinity);
      const data = f.id.join(" + ") + (limit !== undefined ? ` (first ${limit})` : "");
      console.error(`Calibrating on ${data}: ${total} images`);
      const calibration = await calibrateModel(model, readInputs(f.id), settings, {
        batch,
        limit,
        data,
      });
      await saveCalibration(dir, calibration);
      console.error(
        `Threshold ${calibration.threshold} keeps ${
          (calibration.tpr * 100).toFixed(1)
        } % of ID images`,
      );
    } else {
      console.error(`Not calibrated: run deno task calibrate --model ${dir} --id <ID images>`);
    }
    console.error(
      `Review ${join(dir, "manifest.json")}: preprocess must repeat your training pipeline.`,
    );
    console.log(dir);
    return 0;
  } catch (e) {
    if (created) await Deno.remove(created, { recursive: true }).catch(() => {});
    if (e instanceof UsageError) {
      console.error(`${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) await runMain(main);
