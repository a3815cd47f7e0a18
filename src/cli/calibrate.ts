/**
 * `deno task calibrate --model models/<id> --id <inputs> [options]`: scores held-out ID images
 * and stores, in the model's manifest, the threshold keeping 95 % of them and up to 1000
 * quantiles of their scores (for p-values), with the data and settings used. For `--method fused`
 * it stores each component's distribution and a cross-fitted fused threshold. Deterministic:
 * the same inputs and settings give the same threshold.
 * @module
 */
import { countInputs, readInputs } from "../inputs/mod.ts";
import {
  calibrateModel,
  degenerateCalibrationWarning,
  excludeImages,
  saveCalibration,
} from "../models/calibrate_run.ts";
import {
  backendFromFlags,
  COMMON_USAGE,
  idSpecs,
  intFlag,
  listFlag,
  memoryBudgetFromFlags,
  parseFlags,
  settingsFromFlags,
  UsageError,
} from "./args.ts";
import { thresholdSchemes } from "../models/fusion_calibration.ts";
import { loadModel, readManifest } from "../models/loader.ts";
import type { ScorerFactory } from "../contract/scoring.ts";
import { runMain } from "./run_main.ts";
import { createLazyScorer } from "../engine/engine.ts";

const USAGE = `Usage: deno task calibrate --model models/<id> --id <inputs> [options]

  --model <dir>         model directory (model.onnx + manifest.json)
${COMMON_USAGE}
  --exclude <inputs>    skip ID images whose pixels equal one of these (repeatable), e.g. test fixtures

Example (the bundled model, held-out Fashion-MNIST test images the tests do not use):
  deno task calibrate --model models/fmnist-wrn40 --id "fmnist:test[5000:10000]" \\
    --exclude u8:tests/fixtures/wrn40-fmnist/id-fmnist.u8:28x28`;

/** Runs the command; returns the exit code. */
export async function main(argv: readonly string[], createScorer?: ScorerFactory): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv, {
      model: { type: "string" },
      exclude: { type: "string", multiple: true },
    }).values;
    if (flags.help) {
      console.log(USAGE);
      return 0;
    }
    if (typeof flags.model !== "string") throw new UsageError("--model <dir> is required");
    const specs = idSpecs(flags);
    const manifest = await readManifest(flags.model);
    const settings = settingsFromFlags(flags, manifest.defaults);
    const limit = intFlag(flags, "limit");
    const batch = intFlag(flags, "batch", 32)!;
    const backend = await backendFromFlags(flags);
    const model = await loadModel(flags.model, {
      backend,
      createScorer: createScorer ?? createLazyScorer,
      memoryBudgetMb: memoryBudgetFromFlags(flags),
    });
    const exclude = listFlag(flags.exclude);
    const total = Math.min(await countInputs(specs), limit ?? Infinity);
    const data = specs.join(" + ") +
      (exclude.length ? ` excluding ${exclude.join(" + ")}` : "") +
      (limit !== undefined ? ` (first ${limit})` : "");
    console.error(
      `Calibrating ${model.id} (${settings.method}, ${backend}) on ${data}: ≤ ${total} images`,
    );
    const t0 = performance.now();
    let dropped = 0;
    let schemes: ReturnType<typeof thresholdSchemes> | undefined;
    const images = exclude.length
      ? excludeImages(readInputs(specs), readInputs(exclude), () => dropped++)
      : readInputs(specs);
    const calibration = await calibrateModel(model, images, settings, {
      batch,
      limit,
      data,
      onRows: (rows) => (schemes = thresholdSchemes(rows, rows[0]?.length ?? 0)),
      onProgress: (done) => {
        const s = ((performance.now() - t0) / 1000).toFixed(0);
        Deno.stderr.writeSync(new TextEncoder().encode(`\r  ${done}/${total} images, ${s} s`));
      },
    });
    console.error(dropped ? `\n  skipped ${dropped} excluded images` : "");
    const degenerate = degenerateCalibrationWarning(calibration);
    if (degenerate) console.error(degenerate);
    await saveCalibration(flags.model, calibration);
    console.log(JSON.stringify({
      model: model.id,
      method: calibration.method,
      settings: calibration.settings,
      threshold: calibration.threshold,
      tpr: calibration.tpr,
      count: calibration.count,
      data: calibration.data,
      // `fused`: the stored (leave-one-out) threshold next to in-sample and split-half fits.
      ...(schemes ? { threshold_schemes: schemes } : {}),
    }));
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) await runMain(main);
