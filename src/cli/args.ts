/**
 * The one command-line parser of the CLIs (score, eval, calibrate, import, compile): flag
 * groups, typed value readers and the scoring settings (validated by `src/contract/settings.ts`,
 * as the service validates its query). Pure parsing; errors are {@link UsageError}s.
 * @module
 */
import { parseArgs } from "node:util";
import { resolveBackend } from "../runtime/runtime.ts";
import { type BackendChoice, type BackendName, BACKENDS } from "../contract/backends.ts";
import { methodList } from "../contract/methods.ts";
import { type ScoreSettings, SPLIT_POLICIES, type SplitPolicyName } from "../contract/scoring.ts";
import { INTEGRATIONS, LOSSES, SettingsError, settingsFromText } from "../contract/settings.ts";

/** A problem with the command line (exit code 2, usage printed). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The scoring-settings flags. */
export const SETTINGS_FLAGS = {
  method: { type: "string" },
  alpha: { type: "string" },
  iterations: { type: "string" },
  loss: { type: "string" },
  integrate: { type: "string" },
} as const;

/** Flags of the commands that score inputs: settings, inputs, limit, batch, backend, help. */
export const COMMON_FLAGS = {
  id: { type: "string", multiple: true },
  ...SETTINGS_FLAGS,
  limit: { type: "string" },
  batch: { type: "string" },
  backend: { type: "string" },
  "memory-budget-mb": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type FlagSpec = Record<
  string,
  { type: "string" | "boolean"; multiple?: boolean; short?: string; default?: string | boolean }
>;

/** Column where flag descriptions start in usage texts. */
const USAGE_COLUMN = 24;
/** Width usage texts wrap at. */
const USAGE_WIDTH = 100;

/**
 * One flag of a usage text: `flag` with `text` from {@link USAGE_COLUMN} on, wrapped at
 * {@link USAGE_WIDTH}, so lists derived from tables (methods, policies) read as written ones.
 */
export function usageLine(flag: string, text: string): string {
  const lines: string[] = [];
  let line = `  ${flag}`.padEnd(USAGE_COLUMN - 1);
  for (const word of text.split(" ")) {
    if (line.length + 1 + word.length > USAGE_WIDTH && line.trim() !== flag) {
      lines.push(line);
      line = " ".repeat(USAGE_COLUMN - 1);
    }
    line += ` ${word}`;
  }
  return [...lines, line].join("\n");
}

/** The split policies a CLI names by word (the fourth, `tensors`, is a list of tensor names). */
export const NAMED_SPLIT_POLICIES = SPLIT_POLICIES.filter((p) =>
  p !== "tensors"
) as readonly Exclude<
  SplitPolicyName,
  "tensors"
>[];

/** Usage of the settings flags after --method (their values from the settings contract). */
export const SETTINGS_USAGE = `  --alpha <a> --iterations <T> --loss ${
  LOSSES.join("|")
} --integrate ${INTEGRATIONS.join("|")}`;

/** Usage text for the common flags. */
export const COMMON_USAGE =
  `  --id <inputs>         ID images (repeatable): a file or folder, u8:<path>:<H>x<W>, idx:<path>,
                        fmnist:test, fmnist:train, mnist; each may end in a slice [start:end]
${usageLine("--method <m>", `default from the manifest; ${methodList({ notes: true })}`)}
${SETTINGS_USAGE}
  --limit <N>           score at most N images
  --batch <N>           images per scorer call (default 32)
  --backend <b>         auto (default), wasm, native, webgpu
  --memory-budget-mb <MB>  peak memory the engine plans for (default: MEMORY_BUDGET_MB, else
                        75 % of the host's memory)`;

/** Parses argv with exactly the given flags; unknown flags are usage errors. */
export function parseCommand<T extends FlagSpec>(argv: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Parses argv with the common flags plus `extra`. */
export function parseFlags<T extends FlagSpec>(argv: readonly string[], extra: T) {
  return parseCommand(argv, { ...COMMON_FLAGS, ...extra });
}

/** A flag restricted to a list of words, or undefined when absent. */
export function oneOf<T extends string>(
  flag: string,
  v: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new UsageError(`--${flag}: expected one of ${allowed.join(", ")}, got "${v}"`);
  }
  return v as T;
}

/** A comma-separated list of numbers (all finite, or per `check`), or undefined when absent. */
export function numberList(
  flag: string,
  v: string | undefined,
  check: { readonly what: string; readonly ok: (x: number) => boolean } = {
    what: "numbers",
    ok: Number.isFinite,
  },
): number[] | undefined {
  if (v === undefined) return undefined;
  const xs = v.split(",").map((s) => s.trim() === "" ? Number.NaN : Number(s));
  if (xs.some((x) => !check.ok(x))) {
    throw new UsageError(`--${flag}: expected ${check.what}, got "${v}"`);
  }
  return xs;
}

type Flags = Record<string, string | boolean | string[] | undefined>;

/** The manifest's default settings with any flag overrides, validated. */
export function settingsFromFlags(flags: Flags, defaults: ScoreSettings): ScoreSettings {
  const text: Partial<Record<keyof ScoreSettings, string>> = {};
  for (const k of ["method", "alpha", "iterations", "loss", "integrate"] as const) {
    const v = flags[k];
    if (v !== undefined) text[k] = String(v);
  }
  try {
    return settingsFromText(text, defaults);
  } catch (e) {
    if (!(e instanceof SettingsError)) throw e;
    throw new UsageError(`--${e.setting}: expected ${e.expected}, got "${text[e.setting]}"`);
  }
}

/**
 * The memory budget in MB: `--memory-budget-mb`, else the `MEMORY_BUDGET_MB` environment
 * variable, else undefined (the engine's default from the host's memory).
 */
export function memoryBudgetFromFlags(flags: Flags): number | undefined {
  const raw = flags["memory-budget-mb"] ?? Deno.env.get("MEMORY_BUDGET_MB");
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (typeof raw !== "string" || !Number.isInteger(n) || n < 64) {
    throw new UsageError(`--memory-budget-mb: expected an integer ≥ 64 (MB), got "${raw}"`);
  }
  return n;
}

/** A positive integer flag, or the fallback. */
export function intFlag(flags: Flags, key: string, fallback?: number): number | undefined {
  const v = flags[key];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== "string" || !Number.isInteger(n) || n < 1) {
    throw new UsageError(`--${key}: expected a positive integer, got "${v}"`);
  }
  return n;
}

/** A number flag (finite, at least `min`), or the fallback when absent. */
export function numberFlag(flags: Flags, key: string, fallback: number, min = 0): number {
  const v = flags[key];
  if (v === undefined) return fallback;
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : Number.NaN;
  if (!Number.isFinite(n) || n < min) {
    throw new UsageError(`--${key}: expected a number ≥ ${min}, got "${v}"`);
  }
  return n;
}

/** The backend named by --backend ("auto" picks native when it loads, else wasm). */
export async function backendFromFlags(
  flags: Flags,
  fallback: BackendChoice = "auto",
): Promise<BackendName> {
  return await resolveBackend(backendChoice(flags, fallback));
}

/** The --backend choice, not yet resolved. */
export function backendChoice(flags: Flags, fallback: BackendChoice = "auto"): BackendChoice {
  const v = flags.backend ?? fallback;
  return oneOf("backend", typeof v === "string" ? v : String(v), ["auto", ...BACKENDS])!;
}

/** The --id specs, required. */
export function idSpecs(flags: Flags): string[] {
  const v = flags.id;
  if (!Array.isArray(v) || v.length === 0) throw new UsageError("--id <inputs> is required");
  return v;
}

/** A repeatable string flag as a list (empty when absent). */
export function listFlag(v: string | boolean | string[] | undefined): string[] {
  return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
}
