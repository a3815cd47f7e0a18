/**
 * `deno task score --model <model-dir> <inputs>… [options]`: scores images and writes NDJSON to
 * stdout, one line per image in input order; a progress bar goes to stderr.
 * @module
 */
import { ProgressBar } from "../eval/progress.ts";
import { countInputs, type InputItem, readInputs } from "../inputs/mod.ts";
import {
  backendFromFlags,
  COMMON_USAGE,
  intFlag,
  memoryBudgetFromFlags,
  parseFlags,
  settingsFromFlags,
  UsageError,
} from "./args.ts";
import { loadModel, readManifest } from "../models/loader.ts";
import type { LoadedModel } from "../models/types.ts";
import type { ScorerFactory } from "../contract/scoring.ts";
import type { ScoreSettings } from "../contract/scoring.ts";
import { runMain } from "./run_main.ts";
import { createLazyScorer } from "../engine/engine.ts";

const USAGE = `Usage: deno task score --model <model-dir> <inputs>… [options]

  <inputs>              image files or folders (PNG, JPEG, GIF, TIFF), u8:<path>:<H>x<W>,
                        idx:<path>, fmnist:test, mnist, noise:uniform:<n>:<H>x<W>; slices [a:b]
  --model <dir>         model directory (model.onnx + manifest.json)
${COMMON_USAGE.split("\n").slice(2).join("\n")}

Writes one JSON line per image: {"index","input","score","class","label","confidence","method"},
plus "components" (each component's score and p-value) for --method fused.
Higher scores are more in-distribution.`;

/** Runs the command; returns the exit code. Lines go to `write` (stdout by default). */
export async function main(
  argv: readonly string[],
  createScorer?: ScorerFactory,
  write: (line: string) => void = (l) => console.log(l),
): Promise<number> {
  let flags, positionals;
  try {
    ({ values: flags, positionals } = parseFlags(argv, { model: { type: "string" } }));
    if (flags.help) {
      console.log(USAGE);
      return 0;
    }
    if (typeof flags.model !== "string") throw new UsageError("--model <dir> is required");
    if (positionals.length === 0) throw new UsageError("no inputs given");
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const manifest = await readManifest(flags.model);
  let settings: ScoreSettings, batch: number, limit: number | undefined;
  let memoryBudgetMb: number | undefined;
  try {
    settings = settingsFromFlags(flags, manifest.defaults);
    batch = intFlag(flags, "batch", 32)!;
    memoryBudgetMb = memoryBudgetFromFlags(flags);
    limit = intFlag(flags, "limit");
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const backend = await backendFromFlags(flags);
  const model = await loadModel(flags.model, {
    backend,
    createScorer: createScorer ?? createLazyScorer,
    memoryBudgetMb,
  });
  const total = Math.min(await countInputs(positionals), limit ?? Infinity);
  unscorable = 0;
  const bar = total > batch ? new ProgressBar(total) : undefined;
  bar?.label(`${settings.method} on ${backend}`);
  let pending: InputItem[] = [];
  let seen = 0;
  for await (const item of readInputs(positionals)) {
    if (seen++ >= total) break;
    pending.push(item);
    if (pending.length === batch) {
      await flush(model, pending, settings, write);
      bar?.advance(pending.length);
      pending = [];
    }
  }
  if (pending.length) {
    await flush(model, pending, settings, write);
    bar?.advance(pending.length);
  }
  bar?.finish();
  if (unscorable > 0) {
    console.error(`${unscorable} image(s) could not be scored: see their "error" lines`);
    return 1;
  }
  return 0;
}

/** Images whose score could not be computed (an "error" line each) in this run. */
let unscorable = 0;

async function flush(
  model: LoadedModel,
  items: InputItem[],
  settings: ScoreSettings,
  write: (line: string) => void,
): Promise<void> {
  const [c, h, w] = model.inputDims;
  const per = c * h * w;
  const data = new Float32Array(items.length * per);
  items.forEach((item, i) => data.set(model.preprocess(item.image), i * per));
  const scores = await model.scorer.score({ data, dims: [items.length, c, h, w] }, settings);
  items.forEach((item, i) => {
    const s = scores[i];
    if (s.error) {
      unscorable++;
      const error = `Cannot score "${item.name}": ${s.error}`;
      write(
        JSON.stringify({ index: item.index, input: item.name, error, method: settings.method }),
      );
      return;
    }
    write(JSON.stringify({
      index: item.index,
      input: item.name,
      score: s.score,
      class: s.class,
      label: model.labels[s.class] ?? String(s.class),
      confidence: s.confidence,
      method: settings.method,
      ...(s.components ? { components: s.components } : {}),
    }));
  });
}

if (import.meta.main) await runMain(main);
