/**
 * A registry loaded to the end, for tests: `startRegistry` (src/models/loader.ts) awaited.
 * @module
 */
import { type LoadOptions, startRegistry } from "../../src/models/loader.ts";
import type { ModelRegistry } from "../../src/models/types.ts";

/** Loads the models (all under `root`, or the given ids) and returns the ready registry. */
export async function createRegistry(
  root: string,
  ids: readonly string[] | "all",
  opts: LoadOptions,
): Promise<ModelRegistry> {
  const { registry, loaded } = startRegistry(root, ids, opts);
  await loaded;
  return registry;
}
