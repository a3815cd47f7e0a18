/**
 * Loads the configured models with the real loader (src/models/loader.ts) and S&I engine.
 * @module
 */
import type { Config } from "../config.ts";
import { type LoadOptions, type StartedRegistry, startRegistry } from "../models/loader.ts";
import type { ModelRegistry } from "../models/types.ts";
import { resolveBackend } from "../runtime/runtime.ts";
import { workerScorerFactory } from "./worker_scorer.ts";
import { createScorer as engineScorer } from "../engine/engine.ts";
import { defaultMemoryBudgetMb } from "../engine/memory_plan.ts";

const ENGINE_URL = new URL("../engine/engine.ts", import.meta.url).href;

/**
 * Starts loading and returns the registry at once (the backend is resolved as the load's first
 * step); models become visible one by one as they load.
 * With `scoreThread` worker (auto: for the native and wasm backends) each model compiles and
 * scores in its own Worker: onnxruntime calls block their thread for the whole batch. The wasm
 * backend runs one thread per worker (src/runtime/backends.ts says why). Auto keeps webgpu on the
 * main thread, where its GPU device lives.
 */
export function startModels(config: Config): StartedRegistry {
  return startRegistry(config.modelsDir, config.models, loadOptions(config));
}

/** The backend, where scoring runs and the memory budget, as the configuration says. */
async function loadOptions(config: Config): Promise<LoadOptions> {
  const backend = await resolveBackend(config.backend);
  const inWorker = config.scoreThread === "worker" ||
    (config.scoreThread === "auto" && (backend === "native" || backend === "wasm"));
  const createScorer = inWorker ? workerScorerFactory(ENGINE_URL) : engineScorer;
  return {
    backend,
    createScorer,
    // Resolved here, so the registry can share one budget among the models.
    memoryBudgetMb: config.memoryBudgetMb ?? defaultMemoryBudgetMb(),
    cacheMaxMb: config.cacheMaxMb,
  };
}

/** Loads every configured model and returns the ready registry. */
export async function loadModels(config: Config): Promise<ModelRegistry> {
  const { registry, loaded } = startModels(config);
  await loaded;
  return registry;
}
