/**
 * `deno task import <model.onnx> [--name <id>] [--labels a,b,...] [--id <inputs>] [options]`:
 * turns an exported classifier into `models/<id>/`: drafts the manifest from the graph and the
 * flags, copies the model, compiles and test-scores it, then calibrates on the ID inputs.
 * @module
 */
import { basename, join } from "node:path";
import { countInputs, readInputs } from "../inputs/mod.ts";
import {
  calibrateModel,
  degenerateCalibrationWarning,
  formatJson,
  saveCalibration,
} from "../models/calibrate_run.ts";
import { Graph } from "../onnx/graph.ts";
import { readModel } from "../onnx/proto.ts";
import { LAST_NORMALIZATION_COUNT } from "../contract/scoring.ts";
import { foldedNormalizationNote, zeroMaskWarning } from "../si/degenerate.ts";
import {
  backendFromFlags,
  COMMON_USAGE,
  intFlag,
  NAMED_SPLIT_POLICIES,
  numberList,
  oneOf,
  parseFlags,
  settingsFromFlags,
  UsageError,
} from "./args.ts";
import { draftManifest, graphFacts, PRESET_NAMES } from "../models/draft.ts";
import { loadModel, sha256Hex } from "../models/loader.ts";
import { isModelId } from "../contract/model_id.ts";
import { type Manifest, parseManifest } from "../models/manifest.ts";
import type { LoadedModel } from "../models/types.ts";
import type { ScoreSettings } from "../contract/scoring.ts";
import type { ScorerFactory } from "../contract/scoring.ts";
import { createLazyScorer } from "../engine/engine.ts";
import { runMain } from "./run_main.ts";

const USAGE = `Usage: deno task import <model.onnx> [options]

  --name <id>           model id and folder name (default: the file name)
  --labels a,b,...      class names (default: class_0, class_1, ...)
  --color gray|rgb      colour of the training images (default: gray for 1 channel, else rgb)
  --pad <N>             pixels of padding on every side (resize target = input size − 2N)
  --mean a[,b,c] --std a[,b,c]   normalization after /255 (default 0 and 1)
  --resize-method area|bilinear|bicubic  (default area; imagenet preset: bilinear)
  --splits ${NAMED_SPLIT_POLICIES.join("|")}
  --preset imagenet     torchvision's ImageNet evaluation transform (resize shorter side to 256,
                        center crop 224, ImageNet mean/std) and S&I-A over the last 10
                        normalizations; other flags override its choices
  --models-dir <dir>    where model folders live (default: models)
  --force               overwrite an existing model folder
${COMMON_USAGE}
  (--id is optional here; without it the model is imported but not calibrated)

Example: deno task import wrn.onnx --name my-wrn --color gray --pad 2 --mean 0.286 --std 0.353 \\
           --labels "T-shirt/top,Trouser,..." --id "fmnist:test[5000:10000]"
         deno task import resnet50.onnx --preset imagenet --labels "$(cat labels.txt)" --id photos/`;

const IMPORT_FLAGS = {
  name: { type: "string" },
  labels: { type: "string" },
  color: { type: "string" },
  pad: { type: "string" },
  mean: { type: "string" },
  std: { type: "string" },
  "resize-method": { type: "string" },
  splits: { type: "string" },
  preset: { type: "string" },
  "models-dir": { type: "string" },
  force: { type: "boolean" },
} as const;

const RESIZE_METHODS = ["area", "bilinear", "bicubic"] as const;

function padFlag(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    throw new UsageError(`--pad: expected an integer ≥ 0, got "${v}"`);
  }
  return n;
}

type ImportFlags = ReturnType<typeof parseFlags<typeof IMPORT_FLAGS>>["values"];

/** Everything decided before the model folder is written. */
interface ImportPlan {
  readonly source: string;
  readonly bytes: Uint8Array;
  readonly dir: string;
  readonly draft: Record<string, unknown>;
  readonly manifest: Manifest;
  readonly settings: ScoreSettings;
  readonly facts: ReturnType<typeof graphFacts>;
}

/** Reads the model and drafts its manifest from the graph and the flags. */
async function planImport(f: ImportFlags, positionals: readonly string[]): Promise<ImportPlan> {
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
    resizeMethod: oneOf("resize-method", f["resize-method"], RESIZE_METHODS),
    splits: oneOf("splits", f.splits, NAMED_SPLIT_POLICIES),
    preset: oneOf("preset", f.preset, PRESET_NAMES),
    created: new Date().toISOString(),
  });
  const manifest = parseManifest(draft, `${id}/manifest.json (draft)`);
  const settings = settingsFromFlags(f, manifest.defaults);
  const dir = join(f["models-dir"] ?? "models", id);
  return { source, bytes, dir, draft, manifest, settings, facts };
}

/** Writes model.onnx and the drafted manifest; returns the folder when this run created it. */
async function writeModelDir(plan: ImportPlan, force: boolean): Promise<string | undefined> {
  let created: string | undefined;
  try {
    await Deno.stat(plan.dir);
    if (!force) throw new UsageError(`${plan.dir} already exists; pass --force to overwrite`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    created = plan.dir;
  }
  await Deno.mkdir(plan.dir, { recursive: true });
  await Deno.writeFile(join(plan.dir, "model.onnx"), plan.bytes);
  await Deno.writeTextFile(join(plan.dir, "manifest.json"), formatJson(plan.draft));
  const { facts } = plan;
  console.error(
    `Drafted ${plan.dir}: input ${facts.input} [${facts.dims}], output ${facts.output}, ` +
      `${facts.normalizationNodes} BatchNormalization nodes, splits ${plan.manifest.splits.policy}`,
  );
  printGraphNotes(plan);
  return created;
}

/** What the user should know about how the methods see this graph (folded BN, smooth nets). */
function printGraphNotes(plan: ImportPlan): void {
  const graph = new Graph(readModel(plan.bytes, plan.source));
  const folded = foldedNormalizationNote(graph, LAST_NORMALIZATION_COUNT);
  if (folded) console.error(`Note: ${folded}`);
  const degenerate = zeroMaskWarning(graph);
  if (degenerate) console.error(`Warning: ${degenerate}`);
}

/** Compiles the scoring graph and scores one gray image: proves the model works end to end. */
async function testScore(model: LoadedModel, plan: ImportPlan, backend: string): Promise<void> {
  const [c, h, w] = model.inputDims;
  const probe = model.preprocess({
    width: w,
    height: h,
    data: new Uint8Array(w * h * 4).fill(128),
  });
  const [r] = await model.scorer.score({ data: probe, dims: [1, c, h, w] }, plan.settings);
  if (!r || !Number.isFinite(r.score) || r.class >= plan.manifest.labels.length) {
    throw new Error(`Cannot import "${plan.source}": a test image scored ${JSON.stringify(r)}`);
  }
  console.error(`Compiled and test-scored on ${backend}: score ${r.score}, class ${r.class}`);
}

/** Calibrates on the --id inputs when there are any. */
async function calibrateImported(model: LoadedModel, plan: ImportPlan, f: ImportFlags) {
  if (!f.id?.length) {
    console.error(`Not calibrated: run deno task calibrate --model ${plan.dir} --id <ID images>`);
    return;
  }
  const limit = intFlag(f, "limit");
  const total = Math.min(await countInputs(f.id), limit ?? Infinity);
  const data = f.id.join(" + ") + (limit !== undefined ? ` (first ${limit})` : "");
  console.error(`Calibrating on ${data}: ${total} images`);
  const calibration = await calibrateModel(model, readInputs(f.id), plan.settings, {
    batch: intFlag(f, "batch", 32)!,
    limit,
    data,
  });
  const degenerate = degenerateCalibrationWarning(calibration);
  if (degenerate) console.error(degenerate);
  await saveCalibration(plan.dir, calibration);
  console.error(
    `Threshold ${calibration.threshold} keeps ${(calibration.tpr * 100).toFixed(1)} % of ID images`,
  );
}

/** Runs the command; returns the exit code. */
export async function main(argv: readonly string[], createScorer?: ScorerFactory): Promise<number> {
  let created: string | undefined, written: string | undefined;
  try {
    const { values: f, positionals } = parseFlags(argv, IMPORT_FLAGS);
    if (f.help) {
      console.log(USAGE);
      return 0;
    }
    const plan = await planImport(f, positionals);
    intFlag(f, "limit"); // flag errors before anything is written
    intFlag(f, "batch", 32);
    const backend = await backendFromFlags(f);
    created = await writeModelDir(plan, !!f.force);
    written = plan.dir;
    const model = await loadModel(plan.dir, {
      backend,
      createScorer: createScorer ?? createLazyScorer,
    });
    await testScore(model, plan, backend);
    written = undefined; // the folder is now a working model; keep it even if calibration fails
    created = undefined;
    await calibrateImported(model, plan, f);
    console.error(
      `Review ${join(plan.dir, "manifest.json")}: preprocess must repeat your training pipeline.`,
    );
    console.log(plan.dir);
    return 0;
  } catch (e) {
    if (written) await keepDraft(written, created !== undefined);
    if (e instanceof UsageError) {
      console.error(`${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof Error) throw new Error(withHint(e.message), { cause: e });
    throw e;
  }
}

/**
 * After a failed import, the drafted manifest stays to inspect as `manifest.draft.json` (the
 * loader only serves folders with a `manifest.json`, so a broken model is never picked up).
 */
async function keepDraft(dir: string, createdNow: boolean): Promise<void> {
  const draft = join(dir, "manifest.draft.json");
  try {
    await Deno.rename(join(dir, "manifest.json"), draft);
    console.error(
      `Import failed; the drafted manifest is kept as ${draft}` +
        (createdNow ? " (with model.onnx)" : "") +
        `: fix it and rename it to manifest.json, or re-run the import with --force`,
    );
  } catch {
    // Nothing was drafted yet.
  }
}

/** What a user can do about the gradient compiler's errors, appended to the message. */
function withHint(message: string): string {
  if (/No gradient rule|Cannot differentiate/.test(message)) {
    return `${message}\nWhat you can do: choose split tensors downstream of that node ` +
      `(--splits, or "splits": {"policy": "tensors", "names": [...]} in the manifest), ` +
      `re-export the model so that node becomes a supported op, or use a method that needs no ` +
      `gradients (energy, msp, maxlogit) as "defaults.method"`;
  }
  if (/^Cannot compute "(si_a|gaia_a)"/.test(message)) {
    return `${message}\nWhat you can do: name the pooled features and the splits in the manifest ` +
      `("splits": {"policy": "tensors", "names": [...], "pooled": "<tensor>"}), or use "si"`;
  }
  return message;
}

if (import.meta.main) await runMain(main);
