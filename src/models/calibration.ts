/**
 * Calibration arithmetic: the 95 %-ID threshold, stored quantiles, p-values, and matching a
 * stored calibration to requested settings. Pure functions, no I/O.
 * @module
 */
import type { ScoreSettings } from "../contract/scoring.ts";
import { relevantSettings } from "../contract/settings.ts";
import type { Calibration } from "./types.ts";

/**
 * Share of ID images a calibration rejects (it keeps 95 %, the authors' convention). Stored as
 * 0.05 rather than 1 − 0.95, which is 0.05000000000000004 and would move index round(2.5).
 */
export const ID_REJECTION = 0.05;
/** Most scores stored per calibration; larger sets are summarised by evenly spaced quantiles. */
export const MAX_STORED_SCORES = 1000;

/** Python's round(): halves go to the even neighbour (the authors compute the index in Python). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Ascending copy of the scores; throws on an empty list or a non-finite score. */
export function sortScores(scores: readonly number[]): number[] {
  if (scores.length === 0) throw new Error("Cannot calibrate: no ID scores");
  const bad = scores.findIndex((s) => !Number.isFinite(s));
  if (bad >= 0) throw new Error(`Cannot calibrate: score ${bad} is ${scores[bad]}`);
  return [...scores].sort((a, b) => a - b);
}

/**
 * The threshold that rejects `rejection` of the ID scores: sort ascending, take the score at
 * index round(rejection · n). Scores below it are flagged OOD.
 */
export function thresholdAt(sorted: readonly number[], rejection = ID_REJECTION): number {
  const i = Math.min(sorted.length - 1, roundHalfEven(rejection * sorted.length));
  return sorted[i];
}

/** Share of scores at or above the threshold (what the threshold actually accepts). */
export function acceptedShare(sorted: readonly number[], threshold: number): number {
  return (sorted.length - countBelow(sorted, threshold)) / sorted.length;
}

/**
 * At most `max` evenly spaced order statistics of an ascending list (all of them when the list
 * is short), always including the minimum and the maximum.
 */
export function quantiles(sorted: readonly number[], max = MAX_STORED_SCORES): number[] {
  if (sorted.length <= max) return [...sorted];
  if (max < 2) return [sorted[sorted.length - 1]];
  const n = sorted.length;
  return Array.from({ length: max }, (_, i) => sorted[Math.round((i * (n - 1)) / (max - 1))]);
}

/**
 * Conformal p-value of a score against n calibration ID scores: (number at or below it + 1) /
 * (n + 1). For an ID image exchangeable with the calibration images, P(p ≤ t) ≤ t; the value is
 * never 0 (1/(n+1) below all scores, 1 at or above the largest), so its logarithm is finite.
 */
export function pValue(sorted: readonly number[], score: number): number {
  if (sorted.length === 0 || Number.isNaN(score)) return Number.NaN;
  return (countAtOrBelow(sorted, score) + 1) / (sorted.length + 1);
}

/** Number of entries strictly below x (binary search). */
function countBelow(sorted: readonly number[], x: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Number of entries at or below x (binary search). */
function countAtOrBelow(sorted: readonly number[], x: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** True when a stored calibration was made with the same method and relevant settings. */
export function calibrationMatches(c: Calibration, settings: ScoreSettings): boolean {
  return c.method === settings.method &&
    relevantSettings(settings.method).every((k) => c.settings[k] === settings[k]);
}

/** The first stored calibration matching the settings. */
export function findCalibration(
  list: readonly Calibration[],
  settings: ScoreSettings,
): Calibration | undefined {
  return list.find((c) => calibrationMatches(c, settings));
}

/** What a calibration run scored. */
export interface CalibrationInput {
  readonly settings: ScoreSettings;
  readonly scores: readonly number[];
  readonly data: string;
  readonly created: string;
}

/** Builds the stored calibration from raw ID scores. */
export function buildCalibration(input: CalibrationInput): Calibration {
  const sorted = sortScores(input.scores);
  const threshold = thresholdAt(sorted);
  return {
    method: input.settings.method,
    settings: { ...input.settings },
    threshold,
    tpr: acceptedShare(sorted, threshold),
    scores: quantiles(sorted),
    count: sorted.length,
    data: input.data,
    created: input.created,
  };
}

/** Replaces the entry with the same method and relevant settings, or appends. */
export function upsertCalibration(list: readonly Calibration[], c: Calibration): Calibration[] {
  const i = list.findIndex((x) => calibrationMatches(x, c.settings));
  return i < 0 ? [...list, c] : list.map((x, k) => (k === i ? c : x));
}
