/**
 * Shared bits of the deployment tests: the repository root and what `deno task start` runs.
 * @module
 */
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { parse as parseYaml, parseAllDocuments } from "yaml";

/** Absolute path of the repository root. */
export const ROOT: string = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Reads a repository file as text. */
export function readText(rel: string): Promise<string> {
  return Deno.readTextFile(join(ROOT, rel));
}

/** The argv of the `start` task in deno.json (`["deno", "run", ...flags, "main.ts"]`). */
export async function startTaskArgv(): Promise<string[]> {
  const config = JSON.parse(await readText("deno.json"));
  return String(config.tasks.start).trim().split(/\s+/);
}

/** Every YAML document of a file, parsed strictly (duplicate keys and syntax errors throw). */
export async function readYamlDocs(rel: string): Promise<Record<string, unknown>[]> {
  const docs = parseAllDocuments(await readText(rel), { uniqueKeys: true });
  if (!Array.isArray(docs)) throw new Error(`${rel}: empty YAML stream`);
  return docs.map((d, i) => {
    if (d.errors.length > 0) throw new Error(`${rel} document ${i + 1}: ${d.errors[0].message}`);
    return d.toJS() as Record<string, unknown>;
  });
}

/** One YAML document, parsed strictly, with `<<` merge keys resolved (Compose uses them). */
export async function readYaml(rel: string): Promise<Record<string, unknown>> {
  return parseYaml(await readText(rel), { uniqueKeys: true, merge: true });
}

/** Whether `path` exists under the repository root. */
export async function exists(rel: string): Promise<boolean> {
  return (await Deno.stat(join(ROOT, rel)).catch(() => undefined)) !== undefined;
}
