/**
 * A `ScorerFactory` that builds each model's scorer inside its own Worker and returns a proxy.
 * Why: onnxruntime calls block the thread they run on (measured: a 4-image S&I batch on the
 * default model froze the event loop for 8 s natively, 33 s on wasm), which would stall every
 * stream, /healthz and /metrics of the service while a batch is scored.
 * @module
 */
import type { ScorerFactory } from "../contract/scoring.ts";
import type {
  ImageScore,
  InputBatch,
  ScoreCallOptions,
  Scorer,
  ScoreSettings,
} from "../contract/scoring.ts";
import type { FromWorker, ToWorker, WorkerError } from "./worker_protocol.ts";
import { recordStackingFallback } from "../engine/fallbacks.ts";
import { startModuleWorker } from "../web_worker.ts";

function rebuild(e: WorkerError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

/** A scorer running in a Worker; `terminate()` stops the worker. */
export interface WorkerScorer extends Scorer {
  terminate(): void;
}

/**
 * Returns a factory whose scorers run `factoryUrl`'s `createScorer` in a dedicated worker
 * (default: the S&I engine, src/engine/engine.ts).
 */
export function workerScorerFactory(
  factoryUrl: string = new URL("../engine/engine.ts", import.meta.url).href,
): ScorerFactory {
  return (args) => createWorkerScorer(factoryUrl, args);
}

/** Starts a worker, builds the scorer there and resolves once it is ready (or rejects). */
export function createWorkerScorer(
  factoryUrl: string,
  args: Parameters<ScorerFactory>[0],
): Promise<WorkerScorer> {
  const worker = startModuleWorker(new URL("./scorer_worker.ts", import.meta.url));
  const pending = new Map<number, PromiseWithResolvers<ImageScore[]>>();
  let nextId = 0;
  let splits: Readonly<Record<string, readonly string[]>> = {};
  const ready = Promise.withResolvers<WorkerScorer>();
  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };

  const scorer: WorkerScorer = {
    splits: (settings: ScoreSettings) => splits[settings.method] ?? [],
    score(
      batch: InputBatch,
      settings: ScoreSettings,
      options: ScoreCallOptions = {},
    ): Promise<ImageScore[]> {
      const id = nextId++;
      const p = Promise.withResolvers<ImageScore[]>();
      pending.set(id, p);
      const { signal } = options;
      if (signal) {
        const abort = () => worker.postMessage({ type: "abort", id } satisfies ToWorker);
        signal.addEventListener("abort", abort, { once: true });
        p.promise.then(
          () => signal.removeEventListener("abort", abort),
          () => signal.removeEventListener("abort", abort),
        );
      }
      // A copy is transferred, so the caller's array stays usable.
      const data = batch.data.slice();
      const msg: ToWorker = { type: "score", id, data, dims: batch.dims, settings };
      worker.postMessage(msg, [data.buffer]);
      return p.promise;
    },
    terminate() {
      worker.terminate();
      failAll(new Error("Cannot score: the scorer worker was terminated"));
    },
  };

  worker.onmessage = (ev: MessageEvent<FromWorker>) => {
    const msg = ev.data;
    if (msg.type === "ready") {
      splits = msg.splits;
      ready.resolve(scorer);
    } else if (msg.type === "fallback") {
      recordStackingFallback(msg.model, msg.reason, false);
    } else if (msg.type === "failed") {
      worker.terminate();
      ready.reject(rebuild(msg.error));
    } else {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p?.reject(rebuild(msg.error));
      else p?.resolve(msg.results!);
    }
  };
  worker.onerror = (ev: ErrorEvent) => {
    ev.preventDefault();
    const err = new Error(`Scorer worker crashed: ${ev.message}`);
    ready.reject(err);
    failAll(err);
  };
  const init: ToWorker = { type: "init", factoryUrl, args };
  worker.postMessage(init);
  return ready.promise;
}
