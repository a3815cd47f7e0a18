/**
 * Loads the configured models with the real loader (src/models/loader.ts) and S&I engine.
 * @module
 */
import type { Config } from "../config.ts";
import { startRegistry } from "../models/loader.ts";
import type { ModelRegistry } from "../models/types.ts";
import { resolveBackend } from "../runtime/runtime.ts";
import type { StartedLoad } from "./lazy_registry.ts";
import { workerScorerFactory } from "./worker_scorer.ts";
import { createScorer as engineScorer } from "../si/engine.ts";

const ENGINE_URL = new URL("../si/engine.ts", import.meta.url).href;

/**
 * Resolves the backend and starts loading; models become visible one by one as they load.
 * With `scoreThread` worker (auto: for the native backend) each model scores in its own Worker:
 * onnxruntime calls block their thread for the whole batch. Auto keeps wasm/webgpu on the main
 * thread: onnxruntime-web's own threads did not finish a batch inside a Deno Worker here.
 */
export async function startModels(config: Config): Promise<StartedLoad> {
  const backend = await resolveBackend(config.backend);
  const inWorker = config.scoreThread === "worker" ||
    (config.scoreThread === "auto" && backend === "native");
  const createScorer = inWorker ? workerScorerFactory(ENGINE_URL) : engineScorer;
  return startRegistry(config.modelsDir, config.models, { backend, createScorer });
}

/** Loads every configured model and returns the ready registry. */
export async function loadModels(config: Config): Promise<ModelRegistry> {
  const { registry, loaded } = await startModels(config);
  await loaded;
  return registry;
}
