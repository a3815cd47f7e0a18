/**
 * A fake `LoadedModel` and `ModelRegistry` for tests that need a model but not onnxruntime.
 *
 * The fake is deliberately simple so tests can compute expected values by hand:
 * - `preprocess(img)` fills the whole [C, H, W] input with the mean red channel / 255;
 * - the scorer's score of an image is the mean of its input, so a solid image with red = 51
 *   scores 0.2; `class` is 1 ("bright") when the score is ≥ 0.5, else 0 ("dark");
 *   `confidence` is 0.5 + |score − 0.5|; `layers` (when enabled) is `[score, score]`;
 * - the default calibration (`FAKE_CALIBRATION`) has ID scores 0.1, 0.2, …, 0.9 and threshold 0.2.
 *
 * Timing is controllable: `delayMs` sleeps per batch, `hold()` pauses every batch until released,
 * `failWith` makes batches throw. Every batch is recorded in `batches`. A call whose
 * `options.signal` aborts while it waits (held or sleeping) rejects with the signal's reason and
 * is counted in `aborted` instead.
 *
 * API (stable; other engineers' tests rely on it):
 * - `createFakeModel(options?)` → `FakeModel` (a `LoadedModel` plus the controls above)
 * - `createFakeRegistry(models, {ready?})` → `FakeRegistry` (a `ModelRegistry` with settable `ready`)
 * - `FAKE_CALIBRATION`, `FAKE_LABELS`
 * @module
 */
import type { Calibration, LoadedModel, ModelRegistry } from "../../src/models/types.ts";
import type {
  ImageScore,
  InputBatch,
  ScoreCallOptions,
  Scorer,
  ScoreSettings,
} from "../../src/contract/scoring.ts";
import { DEFAULT_SETTINGS } from "../../src/contract/scoring.ts";
import type { DecodedImage } from "../../src/image/types.ts";

/** Labels of the fake model: class 0 is "dark", class 1 "bright". */
export const FAKE_LABELS: readonly string[] = ["dark", "bright"];

/** The fake model's default calibration: ID scores 0.1 … 0.9, threshold 0.2, for method "si". */
export const FAKE_CALIBRATION: Calibration = {
  method: "si",
  settings: DEFAULT_SETTINGS,
  threshold: 0.2,
  tpr: 0.95,
  scores: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
  count: 9,
  data: "fake:test[0:9]",
  created: "2026-01-01T00:00:00.000Z",
};

/** One recorded scorer call. */
export interface FakeBatch {
  readonly size: number;
  readonly settings: ScoreSettings;
  /** Scores returned, in batch order. */
  readonly scores: readonly number[];
}

/** Options of `createFakeModel`. */
export interface FakeModelOptions {
  /** Model id (default "fake"). */
  readonly id?: string;
  /** Input dims [C, H, W] (default [1, 2, 2]). */
  readonly inputDims?: readonly [number, number, number];
  /** Milliseconds each scorer call sleeps (default 0). Mutable later via `model.delayMs`. */
  readonly delayMs?: number;
  /** Calibration returned for method "si" (default `FAKE_CALIBRATION`); `null` = uncalibrated. */
  readonly calibration?: Calibration | null;
  /** Whether scores carry `layers` (default false). */
  readonly layers?: boolean;
  /** Backend reported by the model (default "wasm"). */
  readonly backend?: LoadedModel["backend"];
}

/** A `LoadedModel` whose scorer is controllable from tests. */
export interface FakeModel extends LoadedModel {
  /** Milliseconds each scorer call sleeps. */
  delayMs: number;
  /** When set, every scorer call rejects with this error. */
  failWith: Error | undefined;
  /** Every scorer call so far, in call order. */
  readonly batches: FakeBatch[];
  /** Scorer calls stopped early by their abort signal. */
  readonly aborted: number;
  /** Pauses all scorer calls (current and future) until the returned function is called. */
  hold(): () => void;
  /** Resolves once `n` scorer calls have started (counting calls already started). */
  started(n: number): Promise<void>;
}

/** Creates a fake model (see the module doc for its arithmetic). */
export function createFakeModel(options: FakeModelOptions = {}): FakeModel {
  const id = options.id ?? "fake";
  const inputDims = options.inputDims ?? [1, 2, 2];
  const calibration = options.calibration === undefined ? FAKE_CALIBRATION : options.calibration;
  const batches: FakeBatch[] = [];
  let gate: Promise<void> = Promise.resolve();
  let startedCount = 0;
  let aborted = 0;
  const startWaiters: { n: number; resolve: () => void }[] = [];

  const scorer: Scorer = {
    splits: () => ["split.a", "split.b"],
    async score(
      batch: InputBatch,
      settings: ScoreSettings,
      call: ScoreCallOptions = {},
    ): Promise<ImageScore[]> {
      startedCount++;
      for (const w of startWaiters.filter((w) => startedCount >= w.n)) {
        startWaiters.splice(startWaiters.indexOf(w), 1);
        w.resolve();
      }
      const wait = async () => {
        await gate;
        if (model.delayMs > 0) await new Promise((r) => setTimeout(r, model.delayMs));
      };
      await abortable(wait(), call.signal, () => aborted++);
      if (model.failWith) throw model.failWith;
      const [n, c, h, w] = batch.dims;
      const per = c * h * w;
      const results: ImageScore[] = [];
      for (let i = 0; i < n; i++) {
        let sum = 0;
        for (let j = 0; j < per; j++) sum += batch.data[i * per + j];
        const score = sum / per;
        results.push({
          score,
          class: score >= 0.5 ? 1 : 0,
          confidence: 0.5 + Math.abs(score - 0.5),
          ...(options.layers ? { layers: [score, score] } : {}),
        });
      }
      batches.push({ size: n, settings, scores: results.map((r) => r.score) });
      return results;
    },
  };

  const model: FakeModel = {
    id,
    dir: `/nonexistent/models/${id}`,
    // The real manifest type belongs to src/models/manifest.ts; the service only echoes it.
    manifest: { name: id, labels: FAKE_LABELS, fake: true } as unknown as LoadedModel["manifest"],
    labels: FAKE_LABELS,
    backend: options.backend ?? "wasm",
    scorer,
    inputDims,
    defaults: DEFAULT_SETTINGS,
    delayMs: options.delayMs ?? 0,
    failWith: undefined,
    batches,
    get aborted() {
      return aborted;
    },
    preprocess(image: DecodedImage): Float32Array {
      let sum = 0;
      const pixels = image.width * image.height;
      for (let i = 0; i < pixels; i++) sum += image.data[i * 4];
      const value = pixels > 0 ? sum / pixels / 255 : 0;
      return new Float32Array(inputDims[0] * inputDims[1] * inputDims[2]).fill(value);
    },
    calibrationFor(settings: ScoreSettings): Calibration | undefined {
      return calibration && settings.method === calibration.method ? calibration : undefined;
    },
    hold(): () => void {
      let release!: () => void;
      const previous = gate;
      const mine = new Promise<void>((r) => (release = r));
      gate = previous.then(() => mine);
      return release;
    },
    started(n: number): Promise<void> {
      if (startedCount >= n) return Promise.resolve();
      return new Promise((resolve) => startWaiters.push({ n, resolve }));
    },
  };
  return model;
}

/** `work`, or the signal's reason as soon as it aborts (then `onAbort` runs once). */
function abortable(
  work: Promise<void>,
  signal: AbortSignal | undefined,
  onAbort: () => void,
): Promise<void> {
  if (!signal) return work;
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  const stop = () => {
    onAbort();
    reject(signal.reason);
  };
  if (signal.aborted) stop();
  else signal.addEventListener("abort", stop, { once: true });
  work.then(() => {
    signal.removeEventListener("abort", stop);
    resolve();
  }, reject);
  return promise;
}

/** A `ModelRegistry` over fixed models whose `ready` flag tests can flip. */
export interface FakeRegistry extends ModelRegistry {
  ready: boolean;
}

/** Creates a registry serving `models` (ready by default). */
export function createFakeRegistry(
  models: readonly LoadedModel[],
  options: { ready?: boolean } = {},
): FakeRegistry {
  return {
    ready: options.ready ?? true,
    list: () => models,
    get: (id: string) => models.find((m) => m.id === id),
  };
}
