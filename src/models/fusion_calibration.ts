/**
 * Calibrating `fused`: the component distributions and a threshold for the fused score itself.
 * The fused threshold must not be fitted on fused scores whose p-values counted the image itself
 * (an in-sample image is never below "all" calibration scores, which biases its p-values up), so
 * each calibration image's fused score is cross-fitted: leave-one-out, its p-values against the
 * other n − 1 images. Every image serves both purposes, and each fused score is distributed as a
 * new ID image's score against n − 1 calibration images. Pure functions, no I/O.
 * @module
 */
import type { ScoreSettings } from "../contract/scoring.ts";
import { acceptedShare, pValue, quantiles, sortScores, thresholdAt } from "./calibration.ts";
import type { FusionComponents } from "../contract/fusion.ts";
import type { Calibration, ComponentDistribution } from "./types.ts";

/** What a `fused` calibration run scored: per image, the component values in component order. */
export interface FusedCalibrationInput {
  readonly settings: ScoreSettings;
  readonly components: FusionComponents;
  readonly rows: readonly (readonly number[])[];
  readonly data: string;
  readonly created: string;
}

/** A copy of an ascending list without one occurrence of `x` (which must be in it). */
function withoutOne(sorted: readonly number[], x: number): number[] {
  const i = sorted.indexOf(x);
  return [...sorted.slice(0, i), ...sorted.slice(i + 1)];
}

/** Σ_j ln pValue(reference_j, row_j): the fused score of one row against given references. */
function fisher(references: readonly (readonly number[])[], row: readonly number[]): number {
  return row.reduce((s, v, j) => s + Math.log(pValue(references[j], v)), 0);
}

/** Sorted component columns of the rows; throws on a row of the wrong width. */
function columns(rows: readonly (readonly number[])[], width: number): number[][] {
  const bad = rows.findIndex((r) => r.length !== width);
  if (bad >= 0) {
    throw new Error(`Cannot calibrate "fused": row ${bad} has ${rows[bad].length} values`);
  }
  return Array.from({ length: width }, (_, j) => sortScores(rows.map((r) => r[j])));
}

/** Leave-one-out fused scores: each row's p-values against the other rows only. */
export function leaveOneOutScores(rows: readonly (readonly number[])[], width: number): number[] {
  if (rows.length < 2) throw new Error(`Cannot calibrate "fused": needs at least 2 ID images`);
  const cols = columns(rows, width);
  return rows.map((r) => fisher(cols.map((c, j) => withoutOne(c, r[j])), r));
}

/** Builds the stored `fused` calibration (component distributions + cross-fitted threshold). */
export function buildFusedCalibration(input: FusedCalibrationInput): Calibration {
  const width = input.components.length;
  const cols = columns(input.rows, width);
  const fused = sortScores(leaveOneOutScores(input.rows, width));
  const threshold = thresholdAt(fused);
  const components: ComponentDistribution[] = input.components.map((method, j) => ({
    method,
    scores: quantiles(cols[j]),
    count: cols[j].length,
  }));
  return {
    method: "fused",
    settings: { ...input.settings, method: "fused" },
    threshold,
    tpr: acceptedShare(fused, threshold),
    scores: quantiles(fused),
    count: fused.length,
    data: input.data,
    created: input.created,
    components,
  };
}

/**
 * The fused threshold under three ways of fitting it, for documenting the choice: `inSample`
 * (p-values against all n rows, each row included: biased), `leaveOneOut` (what is stored), and
 * `halves` (components from the even rows, threshold from the odd rows' fused scores).
 */
export function thresholdSchemes(
  rows: readonly (readonly number[])[],
  width: number,
): { inSample: number; leaveOneOut: number; halves: number } {
  const cols = columns(rows, width);
  const even = rows.filter((_, i) => i % 2 === 0);
  const odd = rows.filter((_, i) => i % 2 === 1);
  const evenCols = columns(even, width);
  return {
    inSample: thresholdAt(sortScores(rows.map((r) => fisher(cols, r)))),
    leaveOneOut: thresholdAt(sortScores(leaveOneOutScores(rows, width))),
    halves: thresholdAt(sortScores(odd.map((r) => fisher(evenCols, r)))),
  };
}
