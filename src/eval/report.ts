/**
 * Evaluation results: computing them from scores, and writing the table, JSON, CSV and plots.
 * @module
 */
import type { Method, ScoreSettings } from "../contract/scoring.ts";
import { isIterative } from "../contract/methods.ts";
import {
  accuracy,
  averageMetrics,
  METRIC_KEYS,
  type OodMetrics,
  oodMetrics,
  rocCurve,
} from "./metrics.ts";
import type { ScoredItem } from "./run.ts";
import { histogramSvg, rocSvg } from "./svg.ts";

/** The scores of one run (method + settings) on the ID set and every OOD set. */
export interface RunScores {
  readonly method: Method;
  readonly settings: ScoreSettings;
  readonly id: readonly ScoredItem[];
  /** OOD set name → scores, in command-line order. */
  readonly ood: ReadonlyMap<string, readonly ScoredItem[]>;
}

/** One table row: a method against one OOD set. */
export interface ResultRow {
  readonly ood: string;
  readonly nId: number;
  readonly nOod: number;
  readonly metrics: OodMetrics;
}

/** The metrics of one run. */
export interface RunResult {
  /** E.g. `si (α=0.001, T=2)` or `msp`. */
  readonly label: string;
  readonly method: Method;
  readonly settings: ScoreSettings;
  /** ID classification accuracy, when the ID inputs have labels. */
  readonly idAccuracy?: number;
  readonly rows: readonly ResultRow[];
  readonly average: OodMetrics;
}

/** Column headers for the metrics, in {@link METRIC_KEYS} order. */
export const METRIC_HEADERS: Record<keyof OodMetrics, string> = {
  fpr95: "FPR95↓",
  fpr95OpenOOD: "FPR95-OOD↓",
  auroc: "AUROC↑",
  auprIn: "AUPR-In↑",
  auprOut: "AUPR-Out↑",
  detectionError: "DetErr↓",
};

/** A run's display label: S&I shows its α, T (and loss/integration when not the defaults). */
export function runLabel(s: ScoreSettings): string {
  if (!isIterative(s.method)) return s.method;
  const extra = (s.loss !== "ce" ? `, ${s.loss}` : "") +
    (s.integrate !== "add" ? `, ${s.integrate}` : "");
  return `${s.method} (α=${s.alpha}, T=${s.iterations}${extra})`;
}

/** Computes all metrics of a run. */
export function computeRun(run: RunScores): RunResult {
  const id = run.id.map((s) => s.score);
  const rows: ResultRow[] = [...run.ood].map(([name, items]) => ({
    ood: name,
    nId: id.length,
    nOod: items.length,
    metrics: oodMetrics(id, items.map((s) => s.score)),
  }));
  const acc = accuracy(run.id.map((s) => s.class), run.id.map((s) => s.label));
  return {
    label: runLabel(run.settings),
    method: run.method,
    settings: run.settings,
    ...(acc === undefined ? {} : { idAccuracy: acc }),
    rows,
    average: averageMetrics(rows.map((r) => r.metrics)),
  };
}

const pct = (v: number) => (100 * v).toFixed(2);

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** One run as a paper table: one row per OOD set plus Average, metrics in %. */
export function formatRunTable(r: RunResult): string {
  const header = ["OOD set", ...METRIC_KEYS.map((k) => METRIC_HEADERS[k])];
  const rows = [
    ...r.rows.map((row) => [row.ood, ...METRIC_KEYS.map((k) => pct(row.metrics[k]))]),
    ["Average", ...METRIC_KEYS.map((k) => pct(r.average[k]))],
  ];
  const acc = r.idAccuracy === undefined ? "" : `, ID accuracy ${pct(r.idAccuracy)} %`;
  return `${r.label} (n_ID = ${r.rows[0]?.nId ?? 0}${acc})\n${table(header, rows)}`;
}

/** All runs in one table: FPR95 / AUROC per OOD set and their average (the usual paper layout). */
export function formatSummary(results: readonly RunResult[]): string {
  const sets = results[0]?.rows.map((r) => r.ood) ?? [];
  const header = ["Method", ...[...sets, "Average"].flatMap((s) => [`${s} FPR95`, "AUROC"])];
  const rows = results.map((r) => [
    r.label,
    ...[...r.rows.map((row) => row.metrics), r.average].flatMap((
      m,
    ) => [pct(m.fpr95), pct(m.auroc)]),
  ]);
  return table(header, rows);
}

function csvCell(v: string | number | undefined): string {
  if (v === undefined) return "";
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** `results.csv`: one line per run and OOD set (and Average); metrics as fractions. */
export function resultsCsv(results: readonly RunResult[]): string {
  const head = ["method", "alpha", "iterations", "loss", "integrate", "ood", "n_id", "n_ood"];
  const metricCols = ["fpr95", "fpr95_openood", "auroc", "aupr_in", "aupr_out", "detection_error"];
  const lines = [[...head, ...metricCols, "id_accuracy"].join(",")];
  for (const r of results) {
    const s = r.settings;
    const pre = [r.method, s.alpha, s.iterations, s.loss, s.integrate];
    const rows = [...r.rows, {
      ood: "Average",
      nId: r.rows[0]?.nId,
      nOod: undefined,
      metrics: r.average,
    }];
    for (const row of rows) {
      const cells = [...pre, row.ood, row.nId, row.nOod, ...METRIC_KEYS.map((k) => row.metrics[k])];
      lines.push([...cells, r.idAccuracy].map(csvCell).join(","));
    }
  }
  return lines.join("\n") + "\n";
}

/** Per-image scores CSV: one line per run, set and image. */
export function scoresCsv(runs: readonly RunScores[]): string {
  const lines = ["method,alpha,iterations,set,role,index,name,label,score,class,confidence"];
  for (const run of runs) {
    const s = run.settings;
    const sets: Array<[string, string, readonly ScoredItem[]]> = [
      ["id", "id", run.id],
      ...[...run.ood].map((
        [n, items],
      ): [string, string, readonly ScoredItem[]] => [n, "ood", items]),
    ];
    for (const [set, role, items] of sets) {
      for (const it of items) {
        lines.push(
          [
            s.method,
            s.alpha,
            s.iterations,
            set,
            role,
            it.index,
            it.name,
            it.label,
            it.score,
            it.class,
            it.confidence,
          ]
            .map(csvCell).join(","),
        );
      }
    }
  }
  return lines.join("\n") + "\n";
}

/** A file-name-safe slug of a run label. */
export function slug(label: string): string {
  return label.replace(/α=/g, "a").replace(/[^A-Za-z0-9.]+/g, "_").replace(/^_|_$/g, "");
}

/** What {@link writeReport} writes the header of `results.json` from. */
export interface ReportMeta {
  readonly model: { readonly id: string; readonly backend: string };
  readonly id: { readonly specs: readonly string[]; readonly count: number };
  readonly ood: ReadonlyArray<
    { readonly name: string; readonly specs: readonly string[]; readonly count: number }
  >;
  readonly [key: string]: unknown;
}

/** Writes results.json, results.csv, scores.csv, table.txt and per-run ROC and histogram SVGs. */
export async function writeReport(
  dir: string,
  meta: ReportMeta,
  runs: readonly RunScores[],
  results: readonly RunResult[],
): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const written: string[] = [];
  const put = async (name: string, text: string) => {
    await Deno.writeTextFile(`${dir}/${name}`, text);
    written.push(`${dir}/${name}`);
  };
  const json = { ...meta, created: new Date().toISOString(), results };
  await put("results.json", JSON.stringify(json, null, 2) + "\n");
  await put("results.csv", resultsCsv(results));
  await put("scores.csv", scoresCsv(runs));
  const tables = results.map(formatRunTable).join("\n\n");
  await put(
    "table.txt",
    `${tables}\n\nSummary (FPR95: authors' convention, ID positive)\n${formatSummary(results)}\n`,
  );
  for (let i = 0; i < runs.length; i++) {
    const run = runs[i], r = results[i];
    const id = run.id.map((s) => s.score);
    const curves = r.rows.map((row) => {
      const { fpr, tpr } = rocCurve(id, run.ood.get(row.ood)!.map((s) => s.score));
      return { name: `${row.ood} (AUROC ${pct(row.metrics.auroc)} %)`, fpr, tpr };
    });
    await put(
      `roc-${slug(r.label)}.svg`,
      rocSvg(`ROC: ${r.label}, ID = ${meta.id.specs.join(" ")} (n=${id.length})`, curves),
    );
    const hist = [
      { name: "ID", scores: id },
      ...[...run.ood].map(([name, items]) => ({ name, scores: items.map((s) => s.score) })),
    ];
    await put(`hist-${slug(r.label)}.svg`, histogramSvg(`Scores: ${r.label}`, hist));
  }
  return written;
}
