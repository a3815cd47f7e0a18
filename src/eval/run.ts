/**
 * Scoring a list of inputs with one model and one method/settings, batched and cached.
 * @module
 */
import type { InputItem } from "../inputs/mod.ts";
import { fuse, fusedDistributions } from "../models/fusion.ts";
import type { LoadedModel } from "../models/types.ts";
import type { ScoreSettings } from "../contract/scoring.ts";
import { type CachedScore, imageKey, type ScoreCache } from "./cache.ts";

/** The score of one input. */
export interface ScoredItem extends CachedScore {
  readonly index: number;
  readonly name: string;
  readonly label?: number;
  /** True when the score came from the cache. */
  readonly cached: boolean;
}

/** Options of {@link scoreInputs}. */
export interface ScoreInputsOptions {
  /** Images per scorer call (default 32). */
  readonly batch?: number;
  readonly cache?: ScoreCache;
  /**
   * Called after each batch, and once for all cache hits (with `fromCache` true), with the
   * number of inputs done so far.
   */
  readonly onProgress?: (done: number, fromCache: boolean) => void;
}

/**
 * Scores `items` in order: cached ones are looked up, the rest go through `model.preprocess`
 * and `model.scorer.score` in batches, and their scores are added to the cache.
 */
export async function scoreInputs(
  model: LoadedModel,
  items: readonly InputItem[],
  settings: ScoreSettings,
  opts: ScoreInputsOptions = {},
): Promise<ScoredItem[]> {
  const batchSize = Math.max(1, Math.floor(opts.batch ?? 32));
  const out: (ScoredItem | undefined)[] = new Array(items.length);
  const keys: string[] = [];
  const todo: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const key = opts.cache ? await imageKey(items[i].name, items[i].image) : "";
    keys.push(key);
    const hit = opts.cache ? await opts.cache.get(settings, key) : undefined;
    if (hit) out[i] = result(items[i], hit, true);
    else todo.push(i);
  }
  let done = items.length - todo.length;
  if (done > 0) opts.onProgress?.(done, true);
  const [c, h, w] = model.inputDims;
  const per = c * h * w;
  for (let start = 0; start < todo.length; start += batchSize) {
    const chunk = todo.slice(start, start + batchSize);
    const data = new Float32Array(chunk.length * per);
    chunk.forEach((i, j) => {
      const x = model.preprocess(items[i].image);
      if (x.length !== per) {
        throw new Error(
          `preprocess gave ${x.length} values for "${items[i].name}", expected ${per}`,
        );
      }
      data.set(x, j * per);
    });
    const scores = await model.scorer.score({ data, dims: [chunk.length, c, h, w] }, settings);
    const fresh: Array<[string, CachedScore]> = [];
    chunk.forEach((i, j) => {
      const s = {
        score: scores[j].score,
        class: scores[j].class,
        confidence: scores[j].confidence,
      };
      out[i] = result(items[i], s, false);
      fresh.push([keys[i], s]);
    });
    await opts.cache?.put(settings, fresh);
    done += chunk.length;
    opts.onProgress?.(done, false);
  }
  return out as ScoredItem[];
}

function result(item: InputItem, s: CachedScore, cached: boolean): ScoredItem {
  const base = { index: item.index, name: item.name, ...s, cached };
  return item.label === undefined ? base : { ...base, label: item.label };
}

/**
 * `fused` for evaluation: its components scored as their own methods (through the cache, so a
 * table with `si` and `energy` scores `fused` for free and vice versa), combined by the same
 * `fuse` as the service. The service gets both components from one S&I pass instead; the tests
 * check that its components equal `si` and `energy` run alone.
 */
export async function scoreFusedInputs(
  model: LoadedModel,
  items: readonly InputItem[],
  settings: ScoreSettings,
  opts: ScoreInputsOptions = {},
): Promise<ScoredItem[]> {
  const components = fusedDistributions(model, settings);
  const parts: ScoredItem[][] = [];
  for (const [j, c] of components.entries()) {
    // Progress counts the gradient pass only: the output-based pass is cheap.
    const o = j === 0 ? opts : { ...opts, onProgress: undefined };
    parts.push(await scoreInputs(model, items, { ...settings, method: c.method }, o));
  }
  return parts[0].map((first, i) => ({
    ...first,
    score: fuse(components, parts.map((p) => p[i].score)).score,
    cached: parts.every((p) => p[i].cached),
  }));
}
