/**
 * Command-line flags shared by `deno task calibrate` and `deno task import`: scoring settings,
 * backend, batch and limit. Pure parsing; errors are {@link UsageError}s.
 * @module
 */
import { parseArgs } from "node:util";
import { resolveBackend } from "../runtime/runtime.ts";
import type { BackendName } from "../runtime/types.ts";
import type { ScoreSettings } from "../contract/scoring.ts";
import { SettingsError, settingsFromText } from "../contract/settings.ts";

/** A problem with the command line (exit code 2, usage printed). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Flag definitions for node:util parseArgs. */
export const COMMON_FLAGS = {
  id: { type: "string", multiple: true },
  method: { type: "string" },
  alpha: { type: "string" },
  iterations: { type: "string" },
  loss: { type: "string" },
  integrate: { type: "string" },
  limit: { type: "string" },
  batch: { type: "string" },
  backend: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Usage text for the common flags. */
export const COMMON_USAGE =
  `  --id <inputs>         ID images (repeatable): a file or folder, u8:<path>:<H>x<W>, idx:<path>,
                        fmnist:test, fmnist:train, mnist; each may end in a slice [start:end]
  --method <m>          si (default from the manifest), gaia_z, msp, maxlogit, energy, gradnorm
  --alpha <a> --iterations <T> --loss ce|max --integrate add|multiply
  --limit <N>           score at most N images
  --batch <N>           images per scorer call (default 32)
  --backend <b>         auto (default), wasm, native, webgpu`;

/** Parses argv with the common flags plus `extra`; unknown flags are usage errors. */
export function parseFlags<T extends Record<string, { type: "string" | "boolean" }>>(
  argv: readonly string[],
  extra: T,
) {
  try {
    return parseArgs({
      args: [...argv],
      options: { ...COMMON_FLAGS, ...extra },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
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

/** The backend named by --backend ("auto" picks native when it loads, else wasm). */
export async function backendFromFlags(flags: Flags): Promise<BackendName> {
  const v = flags.backend ?? "auto";
  if (typeof v !== "string" || !["auto", "wasm", "native", "webgpu"].includes(v)) {
    throw new UsageError(`--backend: expected auto, wasm, native or webgpu, got "${v}"`);
  }
  return await resolveBackend(v as BackendName | "auto");
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
