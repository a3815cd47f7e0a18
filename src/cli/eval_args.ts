/**
 * Command-line arguments of `deno task eval` (parsed with the shared CLI parser, `args.ts`).
 * @module
 */
import { type Method, METHODS } from "../contract/scoring.ts";
import { INTEGRATIONS, isValidSetting, LOSSES } from "../contract/settings.ts";
import type { EvalArgs } from "../eval/benchmark.ts";
import { BACKENDS } from "../contract/backends.ts";
import { numberList, oneOf, parseCommand, SETTINGS_FLAGS, UsageError } from "./args.ts";

/** Usage text printed by `--help` and on argument errors. */
export const USAGE =
  `Usage: deno task eval --model <model-dir> --id <inputs> --ood <name>=<inputs> [--ood …]
  [--methods ${METHODS.join(",")}] [--out DIR]
  [--alpha 0.0005,0.001] [--iterations 1,2,3] [--loss ${LOSSES.join("|")}] [--integrate ${
    INTEGRATIONS.join("|")
  }]
  [--limit N] [--backend wasm|webgpu|native] [--batch N] [--cache DIR | --no-cache]

Inputs: image files or folders, u8:<path>:<H>x<W>, idx:<path>, fmnist:test, fmnist:train, mnist,
noise:uniform:<count>:<H>x<W>[:seed], each optionally sliced: fmnist:test[0:300].
Repeat --id / --ood to add inputs; several --ood with the same name form one set.
Several --alpha / --iterations values give an ablation: one S&I table per (α, T).`;

/** Default methods: everything but gradnorm, which needs a full backward pass per class. */
export const DEFAULT_METHODS: readonly Method[] = ["si", "gaia_z", "msp", "energy", "maxlogit"];

const EVAL_FLAGS = {
  model: { type: "string" },
  id: { type: "string", multiple: true },
  ood: { type: "string", multiple: true },
  methods: { type: "string" },
  out: { type: "string" },
  ...SETTINGS_FLAGS,
  limit: { type: "string" },
  backend: { type: "string" },
  batch: { type: "string" },
  cache: { type: "string" },
  "no-cache": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const positiveInts = { what: "positive integers", ok: (x: number) => Number.isInteger(x) && x > 0 };

/** `--ood name=inputs` flags grouped by name. */
function oodSets(flags: readonly string[]): { name: string; specs: string[] }[] {
  const ood: Array<{ name: string; specs: string[] }> = [];
  for (const o of flags) {
    const eq = o.indexOf("=");
    const name = o.slice(0, eq);
    if (eq < 1 || eq === o.length - 1 || !/^[A-Za-z0-9._-]+$/.test(name)) {
      throw new UsageError(`--ood expects <name>=<inputs> with a plain name, got "${o}"`);
    }
    const set = ood.find((s) => s.name === name);
    if (set) set.specs.push(o.slice(eq + 1));
    else ood.push({ name, specs: [o.slice(eq + 1)] });
  }
  return ood;
}

/** Parses `deno task eval` arguments; throws {@link UsageError}. Returns undefined for --help. */
export function parseEvalArgs(argv: readonly string[]): EvalArgs | undefined {
  const { values: v, positionals } = parseCommand(argv, EVAL_FLAGS);
  if (v.help) return undefined;
  if (positionals.length) throw new UsageError(`Unexpected argument "${positionals[0]}"`);
  if (!v.model) throw new UsageError("--model is required");
  if (!v.id?.length) throw new UsageError("--id is required");
  if (!v.ood?.length) throw new UsageError("at least one --ood <name>=<inputs> is required");
  if (v.method !== undefined) throw new UsageError("use --methods (a list) with deno task eval");
  const methods = v.methods === undefined
    ? DEFAULT_METHODS
    : v.methods.split(",").map((m) => oneOf("methods", m.trim(), METHODS)!);
  return {
    model: v.model,
    id: v.id,
    ood: oodSets(v.ood),
    methods: [...new Set(methods)],
    out: v.out,
    alphas: numberList("alpha", v.alpha, {
      what: "numbers in (0, 100]",
      ok: (x) => isValidSetting("alpha", x),
    }),
    iterations: numberList("iterations", v.iterations, {
      what: "integers from 1 to 10",
      ok: (x) => isValidSetting("iterations", x),
    }),
    loss: oneOf("loss", v.loss, LOSSES),
    integrate: oneOf("integrate", v.integrate, INTEGRATIONS),
    limit: numberList("limit", v.limit, positiveInts)?.[0],
    backend: oneOf("backend", v.backend, BACKENDS) ?? "wasm",
    batch: numberList("batch", v.batch, positiveInts)?.[0] ?? 32,
    cache: v["no-cache"] ? undefined : (v.cache ?? ".cache/eval"),
  };
}
