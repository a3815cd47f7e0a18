/**
 * Worker entry: builds one model's scorer with a scorer factory module and scores batches sent by
 * `src/serve/worker_scorer.ts`. Scoring blocks the thread it runs on (onnxruntime calls are
 * synchronous under Deno), so it runs here and the HTTP thread stays responsive.
 * @module
 */
/// <reference lib="deno.worker" />
import type { ScorerFactory } from "../contract/scoring.ts";
import { METHODS } from "../contract/scoring.ts";
import type { Scorer } from "../contract/scoring.ts";
import type { FromWorker, ToWorker } from "./worker_protocol.ts";
import { onStackingFallback } from "../engine/fallbacks.ts";

// The HTTP thread renders /metrics: forward this thread's stacking fallbacks to it.
onStackingFallback((model, reason) =>
  self.postMessage({ type: "fallback", model, reason } satisfies FromWorker)
);

let scorer: Scorer | undefined;
/** Abort controllers of the batches being scored, by message id. */
const running = new Map<number, AbortController>();

function errorOf(e: unknown): { name: string; message: string } {
  return e instanceof Error
    ? { name: e.name, message: e.message }
    : { name: "Error", message: String(e) };
}

self.onmessage = async (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  if (msg.type === "init") {
    try {
      const mod = await import(msg.factoryUrl) as { createScorer?: ScorerFactory };
      if (typeof mod.createScorer !== "function") {
        throw new Error(`Cannot build a scorer: ${msg.factoryUrl} does not export createScorer`);
      }
      scorer = await mod.createScorer(msg.args);
      // Scorer.splits() is synchronous, so the proxy gets every method's splits up front.
      const splits: Record<string, readonly string[]> = {};
      for (const method of METHODS) {
        try {
          splits[method] = scorer.splits({ ...msg.args.manifest.defaults, method });
        } catch {
          // A method this model cannot use (e.g. si_a with fewer than two normalization
          // outputs) reports its error when it is asked to score, not when the model loads.
          splits[method] = [];
        }
      }
      self.postMessage({ type: "ready", splits });
    } catch (e) {
      self.postMessage({ type: "failed", error: errorOf(e) });
    }
    return;
  }
  if (msg.type === "abort") {
    running.get(msg.id)?.abort(new DOMException("The batch is no longer wanted", "AbortError"));
    return;
  }
  if (msg.type === "score") {
    const abort = new AbortController();
    running.set(msg.id, abort);
    try {
      if (!scorer) throw new Error("Cannot score: the worker's scorer is not initialized");
      const results = await scorer.score({ data: msg.data, dims: msg.dims }, msg.settings, {
        signal: abort.signal,
      });
      self.postMessage({ type: "scored", id: msg.id, results });
    } catch (e) {
      self.postMessage({ type: "scored", id: msg.id, error: errorOf(e) });
    } finally {
      running.delete(msg.id);
    }
  }
};
