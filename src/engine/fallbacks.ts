/**
 * Stacking fallbacks: when a model's topology does not allow stacked remainder passes, the
 * compiler clones one remainder per split (same results, a graph ~L times larger and slower to
 * build). Logged once per model with the reason, and counted for /metrics.
 * @module
 */

const counts = new Map<string, number>();
const listeners = new Set<(model: string, reason: string) => void>();

/**
 * Records a fallback for `model` and tells the listeners; logged the first time only, and not at
 * all with `log: false` (a fallback forwarded from a worker that logged it already).
 */
export function recordStackingFallback(model: string, reason: string, log = true): void {
  const n = counts.get(model) ?? 0;
  counts.set(model, n + 1);
  if (n === 0 && log) {
    console.warn(
      `Model "${model}": remainder passes cannot be stacked (${reason}); using one cloned ` +
        `remainder per split (slower to compile and run, same scores)`,
    );
  }
  for (const l of listeners) l(model, reason);
}

/** Fallbacks per model so far in this thread (a scoring worker forwards its own). */
export function stackingFallbackCounts(): ReadonlyMap<string, number> {
  return counts;
}

/** Calls `listener` on every fallback recorded in this thread; returns the unsubscribe. */
export function onStackingFallback(listener: (model: string, reason: string) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
