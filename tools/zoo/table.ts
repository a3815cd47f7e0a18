/**
 * Renders the zoo sweep's rows (`out/zoo/sweep.jsonl`, tools/zoo/sweep.ts) as the markdown table
 * of docs/zoo.md: `deno run -A tools/zoo/table.ts [out/zoo/sweep.jsonl]`. The last row of each
 * architecture wins.
 * @module
 */

interface MethodRow {
  readonly scores?: number[];
  readonly finite?: boolean;
  readonly imageDependent?: boolean;
  readonly errors?: string[];
  readonly failed?: string;
}

interface Row {
  readonly arch: string;
  readonly params?: number;
  readonly failed?: string;
  readonly energyRelErr?: number;
  readonly import?: { seconds: number; peakMiB: number; notes: string[] };
  readonly measure?: { peakMiB: number };
  readonly methods?: Record<string, MethodRow>;
  readonly msPerImage?: Record<string, Record<string, number>>;
}

const fmt = (v: number | undefined, digits = 0) =>
  v === undefined || !Number.isFinite(v) ? "—" : v.toFixed(digits);

function status(r: Row): string {
  if (r.failed) return `fails: ${r.failed.split("\n")[0].slice(0, 120)}`;
  const bad = Object.entries(r.methods ?? {}).filter(([, m]) =>
    m.failed || !m.finite || !m.imageDependent
  );
  const parts = bad.map(([k, m]) =>
    `${k}: ${m.failed ?? (!m.finite ? "not finite" : "same on every image")}`
  );
  if (r.import?.notes.some((n) => n.includes("degenerate"))) parts.push("si degenerate (warned)");
  return parts.length ? parts.join("; ") : "ok";
}

function line(r: Row): string {
  const ms = r.msPerImage ?? {};
  const fe = (m: string) => fmt(ms[m]?.b8 / ms.energy?.b8, 1);
  const peak = Math.max(r.import?.peakMiB ?? NaN, r.measure?.peakMiB ?? NaN);
  return `| ${r.arch} | ${fmt((r.params ?? NaN) / 1e6, 1)} | ${fmt(r.import?.seconds)} | ` +
    `${fmt(peak)} | ${fmt(ms.energy?.b1)} / ${fmt(ms.energy?.b8)} | ` +
    `${fmt(ms.si_a?.b1)} / ${fmt(ms.si_a?.b8)} | ${fmt(ms.si?.b1)} / ${fmt(ms.si?.b8)} | ` +
    `${fe("si_a")} / ${fe("gaia_a")} / ${fe("si")} | ` +
    `${r.energyRelErr === undefined ? "—" : r.energyRelErr.toExponential(1)} | ${status(r)} |`;
}

/** The markdown table of the sweep's rows. */
export function zooTable(rows: readonly Row[]): string {
  const last = new Map<string, Row>();
  for (const r of rows) last.set(r.arch, r);
  return [
    "| architecture | params (M) | import + compile (s) | peak RSS (MiB) | forward ms/img b1 / b8 | si_a ms/img b1 / b8 | si ms/img b1 / b8 | forward-equivalents at b8: si_a / gaia_a / si | energy vs torch (rel) | status |",
    "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --- |",
    ...[...last.values()].map(line),
  ].join("\n");
}

if (import.meta.main) {
  const path = Deno.args[0] ?? "out/zoo/sweep.jsonl";
  const rows = (await Deno.readTextFile(path)).split("\n").filter((l) => l.trim()).map((l) =>
    JSON.parse(l) as Row
  );
  console.log(zooTable(rows));
}
