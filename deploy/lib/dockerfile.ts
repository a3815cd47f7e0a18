/**
 * A small Dockerfile reader for offline checks (no Docker engine here): instructions with line
 * continuations joined, the exec-form (JSON) commands, and the paths COPY takes from the context.
 * @module
 */

/** One instruction, e.g. `{ keyword: "COPY", args: "--chown=1:1 src/ ./src/", line: 12 }`. */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  /** 1-based line where the instruction starts. */
  readonly line: number;
}

/** Splits a Dockerfile into instructions (comments dropped, `\` continuations joined). */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buffer = "";
  let start = 0;
  for (const [i, raw] of text.split("\n").entries()) {
    const trimmed = raw.trim();
    // Comment lines may sit inside a continued instruction; Docker skips them there too.
    if (trimmed.startsWith("#") || (trimmed === "" && buffer === "")) continue;
    if (buffer === "") start = i + 1;
    if (trimmed.endsWith("\\")) {
      buffer += trimmed.slice(0, -1).trimEnd() + " ";
      continue;
    }
    buffer += trimmed;
    const m = /^(\S+)\s*(.*)$/s.exec(buffer.trim());
    if (m) out.push({ keyword: m[1].toUpperCase(), args: m[2].trim(), line: start });
    buffer = "";
  }
  return out;
}

/** `--name=value` flags at the start of `args`, and the rest. */
export function splitFlags(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (;;) {
    const m = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest);
    if (!m) return { flags, rest };
    flags[m[1]] = m[2] ?? "";
    rest = rest.slice(m[0].length);
  }
}

/** The argv of an exec-form (`["a", "b"]`) command, or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  const parsed = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === "string")) {
    throw new Error(`Not an exec-form command: ${args}`);
  }
  return parsed;
}

/** Build-context paths a COPY/ADD reads (copies `--from` another stage are not from the context). */
export function copySources(instruction: Instruction): string[] {
  const { flags, rest } = splitFlags(instruction.args);
  if ("from" in flags) return [];
  const parts = execForm(rest) ?? rest.split(/\s+/);
  return parts.slice(0, -1);
}

/** `ENV A=1 B=2` (and the legacy `ENV A 1`) of every ENV instruction, later ones winning. */
export function envOf(instructions: readonly Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ins of instructions.filter((i) => i.keyword === "ENV")) {
    const pairs = [...ins.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)];
    if (pairs.length === 0) {
      const [k, ...v] = ins.args.split(/\s+/);
      env[k] = v.join(" ");
    }
    for (const [, k, v] of pairs) env[k] = v.replace(/^"(.*)"$/, "$1");
  }
  return env;
}
