/**
 * OOD detection metrics. Every score follows the project convention: higher = more
 * in-distribution. All metrics are fractions in [0, 1] (tables show percentages).
 * Ties are handled exactly: equal scores are never split by an arbitrary order.
 * @module
 */

/** Cumulative counts at each distinct threshold, scores descending (as sklearn's `_binary_clf_curve`). */
export interface BinaryCurve {
  /** Distinct scores, descending. */
  readonly thresholds: number[];
  /** Positives with score ≥ thresholds[k]. */
  readonly tps: number[];
  /** Negatives with score ≥ thresholds[k]. */
  readonly fps: number[];
}

function checkSets(pos: readonly number[], neg: readonly number[]): void {
  if (pos.length === 0 || neg.length === 0) {
    throw new RangeError("metrics need at least one score on each side");
  }
  for (const s of [...pos, ...neg]) {
    if (Number.isNaN(s)) throw new RangeError("scores must not be NaN");
  }
}

/** The curve of a positive and a negative score set; "positive" means score ≥ threshold. */
export function binaryCurve(pos: readonly number[], neg: readonly number[]): BinaryCurve {
  checkSets(pos, neg);
  const all: Array<[number, 0 | 1]> = [];
  for (const s of pos) all.push([s, 1]);
  for (const s of neg) all.push([s, 0]);
  all.sort((a, b) => b[0] - a[0]);
  const thresholds: number[] = [], tps: number[] = [], fps: number[] = [];
  let tp = 0, fp = 0;
  for (let i = 0; i < all.length; i++) {
    if (all[i][1] === 1) tp++;
    else fp++;
    // Record only at the end of a run of equal scores: tied items share one threshold.
    if (i === all.length - 1 || all[i + 1][0] !== all[i][0]) {
      thresholds.push(all[i][0]);
      tps.push(tp);
      fps.push(fp);
    }
  }
  return { thresholds, tps, fps };
}

/** AUROC with ID as the positive class: P(id > ood) + ½·P(id = ood). */
export function auroc(id: readonly number[], ood: readonly number[]): number {
  const c = binaryCurve(id, ood);
  const P = id.length, N = ood.length;
  // Trapezoids between consecutive ROC points: a tied block contributes its diagonal (½).
  let area = 0, tp0 = 0, fp0 = 0;
  for (let k = 0; k < c.thresholds.length; k++) {
    area += (c.fps[k] - fp0) * (c.tps[k] + tp0) / 2;
    tp0 = c.tps[k];
    fp0 = c.fps[k];
  }
  return area / (P * N);
}

/** Average precision as sklearn's `average_precision_score`: Σ (R_k − R_{k−1})·P_k. */
export function averagePrecision(pos: readonly number[], neg: readonly number[]): number {
  const c = binaryCurve(pos, neg);
  let ap = 0, r0 = 0;
  for (let k = 0; k < c.thresholds.length; k++) {
    const r = c.tps[k] / pos.length;
    ap += (r - r0) * (c.tps[k] / (c.tps[k] + c.fps[k]));
    r0 = r;
  }
  return ap;
}

/** AUPR-In: average precision with ID positive, ranked by score. */
export function auprIn(id: readonly number[], ood: readonly number[]): number {
  return averagePrecision(id, ood);
}

/** AUPR-Out: average precision with OOD positive, ranked by −score. */
export function auprOut(id: readonly number[], ood: readonly number[]): number {
  return averagePrecision(ood.map((s) => -s), id.map((s) => -s));
}

/** Python 3's `round` (half to even) on a double, which the authors' index computation uses. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * FPR at 95 % TPR, the authors' convention (ID positive, as GAIA/ODIN/Energy): sort ID scores
 * ascending, threshold = the ID score at index round(0.05·n_ID), FPR = share of OOD scores
 * strictly above it.
 */
export function fpr95Authors(id: readonly number[], ood: readonly number[], tpr = 0.95): number {
  checkSets(id, ood);
  const sorted = [...id].sort((a, b) => a - b);
  // 1 − 0.95 is 0.050000000000000044 in doubles; snap it so the index is round(0.05·n) exactly.
  const cut = Math.round((1 - tpr) * 1e12) / 1e12;
  const idx = Math.min(roundHalfEven(cut * id.length), id.length - 1);
  const thr = sorted[idx];
  return ood.filter((s) => s > thr).length / ood.length;
}

/**
 * FPR at 95 % TPR, OpenOOD v1.5's convention (OOD positive): sklearn `roc_curve(ood, −score)`
 * with its default `drop_intermediate`, then the FPR (share of ID flagged OOD) at the first
 * point whose TPR (share of OOD caught) is ≥ 95 %.
 */
export function fpr95OpenOOD(id: readonly number[], ood: readonly number[], tpr = 0.95): number {
  const c = binaryCurve(ood.map((s) => -s), id.map((s) => -s));
  let fps = c.fps, tps = c.tps;
  if (fps.length > 2) {
    // sklearn keeps a point only where the curve bends (non-zero second difference) + ends.
    const keep: number[] = [0];
    for (let k = 1; k < fps.length - 1; k++) {
      const dfp = fps[k + 1] - 2 * fps[k] + fps[k - 1];
      const dtp = tps[k + 1] - 2 * tps[k] + tps[k - 1];
      if (dfp !== 0 || dtp !== 0) keep.push(k);
    }
    keep.push(fps.length - 1);
    fps = keep.map((k) => c.fps[k]);
    tps = keep.map((k) => c.tps[k]);
  }
  fps = [0, ...fps];
  tps = [0, ...tps];
  const P = tps[tps.length - 1], N = fps[fps.length - 1];
  for (let k = 0; k < tps.length; k++) {
    if (tps[k] / P >= tpr) return fps[k] / N;
  }
  return 1; // unreachable: the last point has TPR 1
}

/** ROC points with ID positive, from (0,0) to (1,1): fpr = OOD accepted, tpr = ID accepted. */
export function rocCurve(
  id: readonly number[],
  ood: readonly number[],
): { fpr: number[]; tpr: number[] } {
  const c = binaryCurve(id, ood);
  return {
    fpr: [0, ...c.fps.map((f) => f / ood.length)],
    tpr: [0, ...c.tps.map((t) => t / id.length)],
  };
}

/** Detection error: min over thresholds of ½(1 − TPR) + ½·FPR (ID positive). */
export function detectionError(id: readonly number[], ood: readonly number[]): number {
  const { fpr, tpr } = rocCurve(id, ood);
  let best = Infinity;
  for (let k = 0; k < fpr.length; k++) best = Math.min(best, 0.5 * (1 - tpr[k]) + 0.5 * fpr[k]);
  return best;
}

/** Share of predictions equal to their labels; undefined when no image has a label. */
export function accuracy(
  predicted: readonly number[],
  labels: readonly (number | undefined)[],
): number | undefined {
  let n = 0, ok = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === undefined) continue;
    n++;
    if (predicted[i] === labels[i]) ok++;
  }
  return n === 0 ? undefined : ok / n;
}

/** All metrics of one (method, OOD set) pair. */
export interface OodMetrics {
  /** FPR at 95 % TPR, authors' convention (ID positive). */
  readonly fpr95: number;
  /** FPR at 95 % TPR, OpenOOD v1.5 convention (OOD positive). */
  readonly fpr95OpenOOD: number;
  readonly auroc: number;
  readonly auprIn: number;
  readonly auprOut: number;
  readonly detectionError: number;
}

/** Names of the metrics in table order. */
export const METRIC_KEYS = [
  "fpr95",
  "fpr95OpenOOD",
  "auroc",
  "auprIn",
  "auprOut",
  "detectionError",
] as const satisfies readonly (keyof OodMetrics)[];

/** Computes every metric of an ID/OOD score pair. */
export function oodMetrics(id: readonly number[], ood: readonly number[]): OodMetrics {
  return {
    fpr95: fpr95Authors(id, ood),
    fpr95OpenOOD: fpr95OpenOOD(id, ood),
    auroc: auroc(id, ood),
    auprIn: auprIn(id, ood),
    auprOut: auprOut(id, ood),
    detectionError: detectionError(id, ood),
  };
}

/** The element-wise mean of several metric sets (the "Average" row). */
export function averageMetrics(rows: readonly OodMetrics[]): OodMetrics {
  const mean = (k: keyof OodMetrics) => rows.reduce((a, r) => a + r[k], 0) / rows.length;
  return {
    fpr95: mean("fpr95"),
    fpr95OpenOOD: mean("fpr95OpenOOD"),
    auroc: mean("auroc"),
    auprIn: mean("auprIn"),
    auprOut: mean("auprOut"),
    detectionError: mean("detectionError"),
  };
}
