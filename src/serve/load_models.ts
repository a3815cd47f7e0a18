/**
 * Loads the configured models with the real loader (src/models/loader.ts) and S&I engine.
 * @module
 */
import type { Config } from "../config.ts";
import { startRegistry } from "../models/loader.ts";
import type { ModelRegistry, ScorerFactory } from "../models/types.ts";
import { resolveBackend } from "../runtime/runtime.ts";
import type { StartedLoad } from "./lazy_registry.ts";

/**
 * The engine's scorer factory. Resolved at run time (non-literal specifier) so the service still
 * starts, answering /healthz with /readyz 503, when the engine module is missing or broken.
 */
async function scorerFactory(): Promise<ScorerFactory> {
  const engineUrl = new URL("../si/engine.ts", import.meta.url).href;
  const mod = await import(engineUrl) as { createScorer?: ScorerFactory };
  if (typeof mod.createScorer !== "function") {
    throw new Error("Cannot load models: src/si/engine.ts does not export createScorer");
  }
  return mod.createScorer;
}

/** Resolves the backend and starts loading; models become visible one by one as they load. */
export async function startModels(config: Config): Promise<StartedLoad> {
  const backend = await resolveBackend(config.backend);
  const createScorer = await scorerFactory();
  return startRegistry(config.modelsDir, config.models, { backend, createScorer });
}

/** Loads every configured model and returns the ready registry. */
export async function loadModels(config: Config): Promise<ModelRegistry> {
  const { registry, loaded } = await startModels(config);
  await loaded;
  return registry;
}
