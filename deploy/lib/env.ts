/**
 * Environment files and the service's configuration: parses `KEY=value` files (systemd
 * EnvironmentFile, .env) and checks a set of variables against `src/config.ts`.
 * @module
 */
import { ConfigError, loadConfig } from "../../src/config.ts";

/** Parses `KEY=value` lines; `#` comments and blank lines are skipped, one level of quotes removed. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`line ${i + 1} is not KEY=value: ${line}`);
    out[m[1]] = m[2].replace(/^"(.*)"$|^'(.*)'$/, "$1$2");
  }
  return out;
}

/** The environment variable names `loadConfig` reads, found by watching it read an empty env. */
export function configVariableNames(): Set<string> {
  const names = new Set<string>();
  loadConfig((name) => {
    names.add(name);
    return undefined;
  });
  return names;
}

/**
 * Variables read by the process rather than the service: glibc's malloc arena cap keeps decode
 * workers' RSS from drifting (docs/reliability.md).
 */
export const PROCESS_VARIABLES: readonly string[] = ["MALLOC_ARENA_MAX"];

/**
 * Problems with `env` as service configuration: unknown variable names (`allowed` lists
 * variables meant for something else, e.g. NVIDIA_DRIVER_CAPABILITIES) and values `loadConfig`
 * rejects. Empty = fine.
 */
export function checkServiceEnv(
  env: Record<string, string>,
  allowed: readonly string[] = [],
): string[] {
  const known = configVariableNames();
  const problems = Object.keys(env)
    .filter((k) => !known.has(k) && !allowed.includes(k) && !PROCESS_VARIABLES.includes(k))
    .map((k) => `${k} is not a service setting (known: ${[...known].join(", ")})`);
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) problems.push(...e.problems);
    else throw e;
  }
  return problems;
}

/** SHUTDOWN_TIMEOUT_MS as `loadConfig` would resolve it from `env`, in seconds. */
export function shutdownSeconds(env: Record<string, string>): number {
  return loadConfig(env).shutdownTimeoutMs / 1000;
}
