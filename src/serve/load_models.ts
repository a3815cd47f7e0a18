/**
 * Loads the configured models into a registry with the real loader and S&I engine.
 * @module
 */
import type { Config } from "../config.ts";
import type { ModelRegistry, ScorerFactory } from "../models/types.ts";

type CreateRegistry = (
  modelsRoot: string,
  ids: Config["models"],
  options: { backend: Config["backend"]; createScorer: ScorerFactory },
) => Promise<ModelRegistry>;

/**
 * Builds the registry for `config`. The loader (src/models/loader.ts) and the engine
 * (src/si/engine.ts) are resolved at run time so the service still starts (and answers
 * /healthz, with /readyz 503) while either is missing or broken.
 */
export async function loadModels(config: Config): Promise<ModelRegistry> {
  // Non-literal specifiers: these modules are owned elsewhere and may not exist yet.
  const loaderUrl = new URL("../models/loader.ts", import.meta.url).href;
  const engineUrl = new URL("../si/engine.ts", import.meta.url).href;
  const { createRegistry } = await import(loaderUrl) as { createRegistry: CreateRegistry };
  const { createScorer } = await import(engineUrl) as { createScorer: ScorerFactory };
  return await createRegistry(config.modelsDir, config.models, {
    backend: config.backend,
    createScorer,
  });
}
