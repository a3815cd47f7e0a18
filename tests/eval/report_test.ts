import assert from "node:assert/strict";
import {
  computeRun,
  formatRunTable,
  formatSummary,
  resultsCsv,
  type RunScores,
  scoresCsv,
  slug,
  writeReport,
} from "../../src/eval/report.ts";
import type { ScoredItem } from "../../src/eval/run.ts";
import { histogramSvg, niceTicks, rocSvg } from "../../src/eval/svg.ts";
import { DEFAULT_SETTINGS } from "../../src/contract/scoring.ts";

const items = (scores: number[], labels?: number[]): ScoredItem[] =>
  scores.map((score, index) => ({
    index,
    name: `img,${index}`,
    score,
    class: 1,
    confidence: 0.9,
    cached: false,
    ...(labels ? { label: labels[index] } : {}),
  }));

// ID 0.9/0.8/0.4 vs OOD 0.7/0.4/0.1: AUROC 7.5/9 = 83.33 %, authors' FPR95 1/3 (see metrics_test).
const RUN: RunScores = {
  method: "si",
  settings: DEFAULT_SETTINGS,
  id: items([0.9, 0.8, 0.4], [1, 0, 1]),
  ood: new Map([["mnist", items([0.7, 0.4, 0.1])], ["far", items([0, -1, -2])]]),
};

Deno.test("formatRunTable() prints one row per OOD set plus the average, in percent", () => {
  const text = formatRunTable(computeRun(RUN));
  const lines = text.split("\n");
  assert.match(lines[0], /^si \(α=0\.001, T=2\) \(n_ID = 3, ID accuracy 66\.67 %\)$/);
  assert.match(lines[1], /FPR95↓ +FPR95-OOD↓ +AUROC↑ +AUPR-In↑ +AUPR-Out↑ +DetErr↓/);
  assert.match(lines[3], /^mnist +33\.33 +33\.33 +83\.33 /);
  assert.match(lines[4], /^far +0\.00 +0\.00 +100\.00 +100\.00 +100\.00 +0\.00$/);
  // Average AUROC (83.33 + 100) / 2 = 91.67; FPR95 (33.33 + 0) / 2 = 16.67.
  assert.match(lines[5], /^Average +16\.67 +16\.67 +91\.67 /);
});

Deno.test("formatSummary() puts methods in rows and FPR95/AUROC per set in columns", () => {
  const msp = {
    ...RUN,
    method: "msp" as const,
    settings: { ...DEFAULT_SETTINGS, method: "msp" as const },
  };
  const lines = formatSummary([computeRun(RUN), computeRun(msp)]).split("\n");
  assert.match(lines[0], /^Method +mnist FPR95 +AUROC +far FPR95 +AUROC +Average FPR95 +AUROC$/);
  assert.match(lines[3], /^msp +33\.33 +83\.33 +0\.00 +100\.00 +16\.67 +91\.67$/);
});

Deno.test("resultsCsv() and scoresCsv() write one line per row and quote names", () => {
  const csv = resultsCsv([computeRun(RUN)]).trim().split("\n");
  assert.equal(csv.length, 4); // header, mnist, far, Average
  assert.equal(csv[0].split(",")[5], "ood");
  assert.ok(csv[3].startsWith("si,0.001,2,ce,add,Average,3,,"));
  const scores = scoresCsv([RUN]).trim().split("\n");
  assert.equal(scores.length, 1 + 9);
  assert.equal(scores[1], 'si,0.001,2,id,id,0,"img,0",1,0.9,1,0.9');
  assert.equal(scores[9], 'si,0.001,2,far,ood,2,"img,2",,-2,1,0.9');
});

Deno.test("niceTicks() picks steps of 1, 2 or 5 times a power of ten", () => {
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  // range 0.06 / 5 = 0.012 → step 0.02.
  assert.deepEqual(niceTicks(-0.34, -0.28), [-0.34, -0.32, -0.3, -0.28]);
  assert.deepEqual(niceTicks(3, 47), [10, 20, 30, 40]);
});

Deno.test("rocSvg() and histogramSvg() draw one mark per series with escaped legends", () => {
  const roc = rocSvg("ROC <x>", [{ name: "a&b", fpr: [0, 0.5, 1], tpr: [0, 1, 1] }, {
    name: "c",
    fpr: [0, 1],
    tpr: [0, 1],
  }]);
  assert.equal(roc.match(/<polyline /g)?.length, 2);
  assert.ok(roc.includes("ROC &lt;x&gt;") && roc.includes("a&amp;b"));
  assert.ok(roc.startsWith("<svg ") && roc.trim().endsWith("</svg>"));
  // (0.5, 1) maps to x = 70 + 0.5·550, y = 40 (top of the plot).
  assert.ok(roc.includes("345.00,40.00"));
  const hist = histogramSvg(
    "H",
    [{ name: "ID", scores: [1, 2, 2] }, { name: "OOD", scores: [0] }],
    4,
  );
  assert.equal(hist.match(/<path /g)?.length, 2);
  assert.ok(hist.includes("ID (n=3)") && hist.includes("OOD (n=1)"));
});

Deno.test("writeReport() writes the tables, data files and one ROC and histogram per run", async () => {
  const dir = await Deno.makeTempDir();
  const meta = {
    model: { id: "m", backend: "wasm" },
    id: { specs: ["x"], count: 3 },
    ood: [{ name: "mnist", specs: ["y"], count: 3 }],
  };
  const result = computeRun(RUN);
  const files = (await writeReport(dir, meta, [RUN], [result])).map((f) => f.slice(dir.length + 1));
  assert.deepEqual(
    files.sort(),
    [
      `hist-${slug(result.label)}.svg`,
      "results.csv",
      "results.json",
      `roc-${slug(result.label)}.svg`,
      "scores.csv",
      "table.txt",
    ].sort(),
  );
  assert.equal(slug(result.label), "si_a0.001_T_2");
  const json = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
  assert.equal(json.results[0].rows[0].metrics.auroc, 7.5 / 9);
  assert.equal(json.model.id, "m");
  await Deno.remove(dir, { recursive: true });
});
