/**
 * Command-line arguments of `deno task eval`.
 * @module
 */
import { parseArgs } from "node:util";
import type { BackendName } from "../runtime/types.ts";
import { type AdvLoss, type Integration, type Method, METHODS } from "../contract/scoring.ts";

/** Usage text printed by `--help` and on argument errors. */
export const USAGE =
  `Usage: deno task eval --model <model-dir> --id <inputs> --ood <name>=<inputs> [--ood …]
  [--methods si,gaia_z,msp,energy,maxlogit,gradnorm] [--out DIR]
  [--alpha 0.0005,0.001] [--iterations 1,2,3] [--loss ce|max] [--integrate add|multiply]
  [--limit N] [--backend wasm|webgpu|native] [--batch N] [--cache DIR | --no-cache]

Inputs: image files or folders, u8:<path>:<H>x<W>, idx:<path>, fmnist:test, fmnist:train, mnist,
noise:uniform:<count>:<H>x<W>[:seed], each optionally sliced: fmnist:test[0:300].
Repeat --id / --ood to add inputs; several --ood with the same name form one set.
Several --alpha / --iterations values give an ablation: one S&I table per (α, T).`;

/** Parsed arguments. Undefined α/T/loss/integration mean "the model's defaults". */
export interface EvalArgs {
  readonly model: string;
  readonly id: readonly string[];
  readonly ood: ReadonlyArray<{ readonly name: string; readonly specs: readonly string[] }>;
  readonly methods: readonly Method[];
  readonly out?: string;
  readonly alphas?: readonly number[];
  readonly iterations?: readonly number[];
  readonly loss?: AdvLoss;
  readonly integrate?: Integration;
  readonly limit?: number;
  readonly backend: BackendName;
  readonly batch: number;
  /** Cache root, or undefined with --no-cache. */
  readonly cache?: string;
}

/** Default methods: everything but gradnorm, which needs a full backward pass per class. */
export const DEFAULT_METHODS: readonly Method[] = ["si", "gaia_z", "msp", "energy", "maxlogit"];

/** An argument error; the message is shown with the usage. */
export class ArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArgsError";
  }
}

function numbers(flag: string, text: string | undefined, integer: boolean): number[] | undefined {
  if (text === undefined) return undefined;
  const vals = text.split(",").map((s) => Number(s.trim()));
  for (const v of vals) {
    if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
      throw new ArgsError(
        `--${flag} expects positive ${integer ? "integers" : "numbers"}, got "${text}"`,
      );
    }
  }
  return vals;
}

function oneOf<T extends string>(
  flag: string,
  v: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new ArgsError(`--${flag} must be one of ${allowed.join(", ")}, got "${v}"`);
  }
  return v as T;
}

/** Parses `deno task eval` arguments; throws {@link ArgsError}. Returns undefined for --help. */
export function parseEvalArgs(argv: readonly string[]): EvalArgs | undefined {
  let v;
  try {
    v = parseArgs({
      args: [...argv],
      options: {
        model: { type: "string" },
        id: { type: "string", multiple: true },
        ood: { type: "string", multiple: true },
        methods: { type: "string" },
        out: { type: "string" },
        alpha: { type: "string" },
        iterations: { type: "string" },
        loss: { type: "string" },
        integrate: { type: "string" },
        limit: { type: "string" },
        backend: { type: "string" },
        batch: { type: "string" },
        cache: { type: "string" },
        "no-cache": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new ArgsError((e as Error).message);
  }
  if (v.help) return undefined;
  if (!v.model) throw new ArgsError("--model is required");
  if (!v.id?.length) throw new ArgsError("--id is required");
  if (!v.ood?.length) throw new ArgsError("at least one --ood <name>=<inputs> is required");
  const ood: Array<{ name: string; specs: string[] }> = [];
  for (const o of v.ood) {
    const eq = o.indexOf("=");
    const name = o.slice(0, eq);
    if (eq < 1 || eq === o.length - 1 || !/^[A-Za-z0-9._-]+$/.test(name)) {
      throw new ArgsError(`--ood expects <name>=<inputs> with a plain name, got "${o}"`);
    }
    const set = ood.find((s) => s.name === name);
    if (set) set.specs.push(o.slice(eq + 1));
    else ood.push({ name, specs: [o.slice(eq + 1)] });
  }
  const methods = v.methods === undefined
    ? DEFAULT_METHODS
    : v.methods.split(",").map((m) => oneOf("methods", m.trim(), METHODS)!);
  const limit = numbers("limit", v.limit, true)?.[0];
  const batch = numbers("batch", v.batch, true)?.[0] ?? 32;
  return {
    model: v.model,
    id: v.id,
    ood,
    methods: [...new Set(methods)],
    out: v.out,
    alphas: numbers("alpha", v.alpha, false),
    iterations: numbers("iterations", v.iterations, true),
    loss: oneOf("loss", v.loss, ["ce", "max"] as const),
    integrate: oneOf("integrate", v.integrate, ["add", "multiply"] as const),
    limit,
    backend: oneOf("backend", v.backend, ["wasm", "webgpu", "native"] as const) ?? "wasm",
    batch,
    cache: v["no-cache"] ? undefined : (v.cache ?? ".cache/eval"),
  };
}
