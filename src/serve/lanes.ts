/**
 * Lanes: a model runs one batch at a time (its scorer is one worker), and up to `concurrency`
 * batches of different models run at once. These helpers plan the drain of what is admitted, for
 * everything or for one model's lane, so admission can tell a request how long it will wait.
 * @module
 */
import { type DrainEvent, type DrainRate, drainSchedule } from "./drain_rate.ts";

/** What the batcher has admitted, as the plans see it. */
export interface QueueState {
  readonly rate: DrainRate;
  /** Running batches: their key, size and `performance.now()` at start. */
  readonly running: readonly { key: string; images: number; startedAt: number }[];
  /** Admitted, unfinished images per batch key. */
  readonly outstanding: ReadonlyMap<string, number>;
  readonly batchMax: number;
  /** Batches at once over all models. */
  readonly concurrency: number;
}

/** The model id of a batch key (`<model id>\u0000<settings key>`). */
export function modelOfKey(key: string): string {
  return key.slice(0, key.indexOf("\u0000"));
}

/**
 * The drain schedule (see `drainSchedule`) of everything over the lanes, or of one model's lane
 * (its batches one at a time).
 */
export function queuePlan(q: QueueState, modelId?: string, now = performance.now()): DrainEvent[] {
  const mine = (key: string) => modelId === undefined || modelOfKey(key) === modelId;
  const running = q.running.filter((r) => mine(r.key)).map((r) => ({
    key: r.key,
    images: r.images,
    elapsedS: (now - r.startedAt) / 1000,
  }));
  const outstanding = new Map([...q.outstanding].filter(([k]) => mine(k)));
  const lanes = modelId === undefined ? q.concurrency : 1;
  return drainSchedule(q.rate, running, outstanding, q.batchMax, lanes);
}

/**
 * The plan a request for `modelId` waits on: its model's lane when fewer other models have work
 * than there are lanes (it will not wait for them), else everything over the lanes.
 */
export function planFor(q: QueueState, modelId: string): DrainEvent[] {
  if (q.concurrency <= 1) return queuePlan(q);
  const others = new Set([...q.outstanding.keys()].map(modelOfKey));
  others.delete(modelId);
  return others.size < q.concurrency ? queuePlan(q, modelId) : queuePlan(q);
}
