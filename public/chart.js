// @ts-check
/**
 * The score chart: a histogram of the calibration (in-distribution) scores, the threshold, and one
 * numbered marker per scored image, drawn as inline SVG so the page works offline.
 * @module
 */

const SVG_NS = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 220;
const PAD = { left: 16, right: 16, top: 34, bottom: 34 };
const BINS = 30;

/**
 * @typedef {{ index: number, name: string, score: number, ood: boolean | null }} Marker
 * @typedef {{ threshold: number, scores: readonly number[] }} ChartCalibration
 */

/**
 * Creates an SVG element with attributes.
 * @param {string} tag
 * @param {Record<string, string | number>} attrs
 * @param {string} [text]
 * @returns {SVGElement}
 */
function el(tag, attrs, text) {
  const node = /** @type {SVGElement} */ (document.createElementNS(SVG_NS, tag));
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * A short, readable rendering of a score for axis labels.
 * @param {number} v
 */
function tickLabel(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}

/**
 * Redraws the chart. Keeps the `<title>` and `<desc>` children (accessible name and description)
 * and rewrites the description to list where each image falls.
 * @param {SVGSVGElement} svg
 * @param {ChartCalibration | undefined} calibration
 * @param {readonly Marker[]} markers
 */
export function drawChart(svg, calibration, markers) {
  for (const child of [...svg.children]) {
    if (child.tagName !== "title" && child.tagName !== "desc") child.remove();
  }
  const desc = svg.querySelector("desc");
  const values = [...(calibration?.scores ?? []), ...markers.map((m) => m.score)];
  if (calibration) values.push(calibration.threshold);
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) {
    svg.append(el("text", { x: WIDTH / 2, y: HEIGHT / 2, class: "chart-empty" }, "No scores yet"));
    if (desc) desc.textContent = "No images scored yet.";
    return;
  }
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (hi === lo) [lo, hi] = [lo - 1, hi + 1];
  const span = hi - lo;
  lo -= span * 0.04;
  hi += span * 0.04;
  const plotW = WIDTH - PAD.left - PAD.right;
  const baseY = HEIGHT - PAD.bottom;
  /** @param {number} v */
  const x = (v) => PAD.left + ((v - lo) / (hi - lo)) * plotW;

  svg.append(
    el("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: baseY, y2: baseY, class: "axis" }),
  );
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    svg.append(el("line", { x1: x(v), x2: x(v), y1: baseY, y2: baseY + 4, class: "axis" }));
    const anchor = i === 0 ? "start" : i === 4 ? "end" : "middle";
    svg.append(
      el("text", { x: x(v), y: baseY + 16, "text-anchor": anchor, class: "tick" }, tickLabel(v)),
    );
  }
  svg.append(
    el(
      "text",
      { x: WIDTH - PAD.right, y: HEIGHT - 4, "text-anchor": "end", class: "tick" },
      "score → more in-distribution",
    ),
  );

  if (calibration && calibration.scores.length > 0) {
    const counts = new Array(BINS).fill(0);
    for (const s of calibration.scores) {
      const b = Math.min(BINS - 1, Math.max(0, Math.floor(((s - lo) / (hi - lo)) * BINS)));
      counts[b]++;
    }
    const maxCount = Math.max(...counts);
    const barW = plotW / BINS;
    const plotH = baseY - PAD.top;
    counts.forEach((c, b) => {
      if (c === 0) return;
      const h = (c / maxCount) * plotH;
      svg.append(el("rect", {
        x: PAD.left + b * barW + 0.5,
        y: baseY - h,
        width: Math.max(barW - 1, 1),
        height: h,
        class: "bar",
      }));
    });
    const tx = x(calibration.threshold);
    svg.append(el("line", { x1: tx, x2: tx, y1: PAD.top - 14, y2: baseY, class: "threshold" }));
    svg.append(
      el(
        "text",
        { x: tx + 4, y: PAD.top - 16, class: "threshold-label" },
        `threshold ${tickLabel(calibration.threshold)}`,
      ),
    );
  } else {
    svg.append(
      el(
        "text",
        { x: WIDTH / 2, y: PAD.top + 20, class: "chart-empty" },
        "No calibration for this method: no threshold or distribution to compare with",
      ),
    );
  }

  // Markers closer than a circle's width go on separate rows so every number stays readable.
  /** @type {number[]} */
  const rowEnds = [];
  const placed = markers.filter((m) => Number.isFinite(m.score))
    .map((m) => ({ m, mx: x(m.score) }))
    .sort((a, b) => a.mx - b.mx);
  for (const { m, mx } of placed) {
    let row = rowEnds.findIndex((end) => end < mx - 18);
    if (row < 0) row = rowEnds.length < 4 ? rowEnds.length : 0;
    rowEnds[row] = mx;
    const cy = PAD.top - 2 + row * 19;
    const cls = m.ood === true ? "marker ood" : m.ood === false ? "marker id" : "marker";
    const g = el("g", { class: cls, "data-index": m.index });
    g.append(el("title", {}, `#${m.index + 1} ${m.name}: ${m.score}`));
    g.append(el("line", { x1: mx, x2: mx, y1: baseY, y2: cy + 6 }));
    g.append(el("circle", { cx: mx, cy, r: 8 }));
    g.append(el("text", { x: mx, y: cy + 4, "text-anchor": "middle" }, String(m.index + 1)));
    svg.append(g);
  }

  if (desc) {
    const parts = markers.map((m) => {
      const verdict = m.ood === true ? "OOD" : m.ood === false ? "in-distribution" : "no verdict";
      return `image ${m.index + 1} (${m.name}) scores ${tickLabel(m.score)}, ${verdict}`;
    });
    const head = calibration
      ? `Calibration threshold ${tickLabel(calibration.threshold)}.`
      : "No calibration.";
    desc.textContent = `${head} ${parts.join("; ") || "No images scored yet."}`;
  }
}
