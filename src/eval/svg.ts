/**
 * Hand-written SVG plots: ROC curves and score histograms. Plain SVG 1.1 so that browsers,
 * rsvg-convert and editors all render it the same.
 * @module
 */

/** One ROC curve (ID positive). */
export interface RocSeries {
  readonly name: string;
  readonly fpr: readonly number[];
  readonly tpr: readonly number[];
}

/** One set of scores for a histogram. */
export interface HistSeries {
  readonly name: string;
  readonly scores: readonly number[];
}

/** Colour-blind-safe palette (Okabe–Ito), ID first in black. */
export const PALETTE = [
  "#000000",
  "#E69F00",
  "#56B4E9",
  "#009E73",
  "#D55E00",
  "#CC79A7",
  "#0072B2",
];

const W = 640, H = 480;
const M = { left: 70, right: 20, top: 40, bottom: 60 };
const PW = W - M.left - M.right, PH = H - M.top - M.bottom;

/** Escapes text for SVG content and attributes. */
export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

/** About `count` round tick values covering [min, max] (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return ticks;
}

function fmt(v: number): string {
  return Number(v.toPrecision(6)).toString();
}

interface Frame {
  readonly x: (v: number) => number;
  readonly y: (v: number) => number;
  readonly parts: string[];
}

function frame(
  title: string,
  xLabel: string,
  yLabel: string,
  xr: [number, number],
  yr: [number, number],
): Frame {
  const x = (v: number) => M.left + ((v - xr[0]) / (xr[1] - xr[0])) * PW;
  const y = (v: number) => M.top + PH - ((v - yr[0]) / (yr[1] - yr[0])) * PH;
  const p: string[] = [
    `<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${
      esc(title)
    }</text>`,
  ];
  for (const t of niceTicks(xr[0], xr[1])) {
    const px = x(t).toFixed(1);
    p.push(`<line x1="${px}" y1="${M.top}" x2="${px}" y2="${M.top + PH}" stroke="#e5e5e5"/>`);
    p.push(
      `<line x1="${px}" y1="${M.top + PH}" x2="${px}" y2="${M.top + PH + 5}" stroke="black"/>`,
    );
    p.push(
      `<text x="${px}" y="${M.top + PH + 20}" text-anchor="middle" font-size="12">${fmt(t)}</text>`,
    );
  }
  for (const t of niceTicks(yr[0], yr[1])) {
    const py = y(t).toFixed(1);
    p.push(`<line x1="${M.left}" y1="${py}" x2="${M.left + PW}" y2="${py}" stroke="#e5e5e5"/>`);
    p.push(`<line x1="${M.left - 5}" y1="${py}" x2="${M.left}" y2="${py}" stroke="black"/>`);
    p.push(
      `<text x="${M.left - 8}" y="${py}" dy="4" text-anchor="end" font-size="12">${fmt(t)}</text>`,
    );
  }
  p.push(
    `<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="black"/>`,
  );
  p.push(
    `<text x="${M.left + PW / 2}" y="${H - 15}" text-anchor="middle" font-size="13">${
      esc(xLabel)
    }</text>`,
  );
  p.push(
    `<text transform="translate(18 ${
      M.top + PH / 2
    }) rotate(-90)" text-anchor="middle" font-size="13">${esc(yLabel)}</text>`,
  );
  return { x, y, parts: p };
}

function legend(
  f: Frame,
  names: readonly string[],
  colors: readonly string[],
  right: boolean,
): void {
  const width = Math.max(...names.map((n) => n.length)) * 7 + 40;
  const x0 = right ? M.left + PW - width - 10 : M.left + 10;
  const y0 = right ? M.top + PH - 10 - names.length * 18 - 6 : M.top + 10;
  f.parts.push(
    `<rect x="${x0}" y="${y0}" width="${width}" height="${
      names.length * 18 + 8
    }" fill="white" fill-opacity="0.9" stroke="#999"/>`,
  );
  names.forEach((n, i) => {
    const y = y0 + 14 + i * 18;
    f.parts.push(
      `<line x1="${x0 + 8}" y1="${y - 4}" x2="${x0 + 28}" y2="${y - 4}" stroke="${
        colors[i]
      }" stroke-width="3"/>`,
    );
    f.parts.push(`<text x="${x0 + 34}" y="${y}" font-size="12">${esc(n)}</text>`);
  });
}

function wrap(parts: readonly string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">\n${
    parts.join("\n")
  }\n</svg>\n`;
}

/** ROC curves, one per OOD set: x = OOD accepted as ID (FPR), y = ID accepted (TPR). */
export function rocSvg(title: string, series: readonly RocSeries[]): string {
  const f = frame(
    title,
    "False positive rate (OOD accepted as ID)",
    "True positive rate (ID accepted)",
    [
      0,
      1,
    ],
    [0, 1],
  );
  f.parts.push(
    `<line x1="${f.x(0)}" y1="${f.y(0)}" x2="${f.x(1)}" y2="${
      f.y(1)
    }" stroke="#999" stroke-dasharray="6 4"/>`,
  );
  const colors = series.map((_, i) => PALETTE[(i + 1) % PALETTE.length]);
  series.forEach((s, i) => {
    const pts = s.fpr.map((v, k) => `${f.x(v).toFixed(2)},${f.y(s.tpr[k]).toFixed(2)}`).join(" ");
    f.parts.push(`<polyline points="${pts}" fill="none" stroke="${colors[i]}" stroke-width="2"/>`);
  });
  legend(f, series.map((s) => s.name), colors, true);
  return wrap(f.parts);
}

/**
 * Overlaid score histograms (share of each set per bin, so sets of different sizes compare),
 * drawn as step outlines with a light fill. The first series is taken as ID (black).
 */
export function histogramSvg(title: string, series: readonly HistSeries[], bins = 40): string {
  const all = series.flatMap((s) => [...s.scores]);
  let lo = Math.min(...all), hi = Math.max(...all);
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / bins;
  const shares = series.map((s) => {
    const counts = new Array(bins).fill(0);
    for (const v of s.scores) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
    return counts.map((c) => c / Math.max(1, s.scores.length));
  });
  // Head-room for the legend (top left), so that it never hides a bar.
  const legendShare = (series.length * 18 + 24) / PH;
  const top = (Math.max(...shares.flat()) || 1) / Math.max(0.3, 1 - legendShare - 0.03);
  const f = frame(title, "Score (higher = more in-distribution)", "Share of images per bin", [
    lo,
    hi,
  ], [
    0,
    top,
  ]);
  const colors = series.map((_, i) => PALETTE[i % PALETTE.length]);
  shares.forEach((sh, i) => {
    let d = `M${f.x(lo).toFixed(2)},${f.y(0).toFixed(2)}`;
    sh.forEach((v, b) => {
      d += ` L${f.x(lo + b * width).toFixed(2)},${f.y(v).toFixed(2)} L${
        f.x(lo + (b + 1) * width).toFixed(2)
      },${f.y(v).toFixed(2)}`;
    });
    d += ` L${f.x(hi).toFixed(2)},${f.y(0).toFixed(2)} Z`;
    f.parts.push(
      `<path d="${d}" fill="${colors[i]}" fill-opacity="0.12" stroke="${
        colors[i]
      }" stroke-width="1.8"/>`,
    );
  });
  legend(f, series.map((s) => `${s.name} (n=${s.scores.length})`), colors, false);
  return wrap(f.parts);
}
