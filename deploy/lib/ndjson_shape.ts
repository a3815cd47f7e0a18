/**
 * Checks the shape of a score stream (`POST /v1/models/{model}/score`): one JSON object per image,
 * in input order, then one summary line.
 * @module
 */

/** The fields every scored-image line carries, with the type each must have. */
export const SCORE_LINE_FIELDS: Readonly<Record<string, (v: unknown) => boolean>> = {
  index: (v) => Number.isInteger(v) && (v as number) >= 0,
  name: (v) => typeof v === "string",
  score: (v) => typeof v === "number" && Number.isFinite(v),
  // Null when the model has no calibration.
  ood: (v) => v === null || typeof v === "boolean",
  threshold: (v) => v === null || (typeof v === "number" && Number.isFinite(v)),
  p_value: (v) => v === null || (typeof v === "number" && v >= 0 && v <= 1),
  class: (v) => Number.isInteger(v) && (v as number) >= 0,
  label: (v) => v === null || typeof v === "string",
  confidence: (v) => typeof v === "number" && v >= 0 && v <= 1,
  method: (v) => typeof v === "string" && v.length > 0,
};

/**
 * Returns every problem found in `body` (empty = well-formed) for a request of `images` images.
 * Per-image error lines (`{"index","name","error"}`) count as problems: a smoke image must score.
 */
export function checkScoreStream(body: string, images: number): string[] {
  const problems: string[] = [];
  const raw = body.split("\n").filter((l) => l.trim() !== "");
  const lines: unknown[] = [];
  for (const [i, l] of raw.entries()) {
    try {
      lines.push(JSON.parse(l));
    } catch {
      problems.push(`line ${i + 1} is not JSON: ${l.slice(0, 80)}`);
    }
  }
  if (problems.length > 0) return problems;
  if (lines.length !== images + 1) {
    problems.push(`expected ${images} image line(s) and a summary, got ${lines.length} line(s)`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  for (const [i, line] of lines.slice(0, images).entries()) {
    if (!isObject(line)) {
      problems.push(`line ${i + 1} is not an object`);
      continue;
    }
    if ("error" in line) {
      problems.push(`image ${i} was not scored: ${JSON.stringify(line.error)}`);
      continue;
    }
    for (const [field, ok] of Object.entries(SCORE_LINE_FIELDS)) {
      if (!(field in line)) problems.push(`line ${i + 1} lacks "${field}"`);
      else if (!ok(line[field])) {
        problems.push(`line ${i + 1} has a bad "${field}": ${JSON.stringify(line[field])}`);
      }
    }
    if (line.index !== i) problems.push(`line ${i + 1} has index ${line.index}, expected ${i}`);
  }
  const summary = lines.at(-1);
  if (lines.length > images) {
    if (!isObject(summary)) problems.push("the summary line is not an object");
    else if ("index" in summary || "error" in summary) {
      problems.push(`the last line is not a summary: ${JSON.stringify(summary).slice(0, 120)}`);
    }
  }
  return problems;
}
