/**
 * `deno task eval`: OOD benchmark of a model directory (see docs/evaluation.md).
 * @module
 */
import { parseEvalArgs, USAGE } from "./eval_args.ts";
import { UsageError } from "./args.ts";
import { runBenchmark } from "../eval/benchmark.ts";
import { loadModel } from "../models/loader.ts";
import { runMain } from "./run_main.ts";
import { createLazyScorer } from "../engine/engine.ts";

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseEvalArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (!args) {
    console.log(USAGE);
    return 0;
  }
  const model = await loadModel(args.model, {
    backend: args.backend,
    createScorer: createLazyScorer,
  });
  await runBenchmark(model, args, { print: (t) => console.log(t) });
  return 0;
}

if (import.meta.main) await runMain(main);
