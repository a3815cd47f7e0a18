/**
 * The torchvision zoo sweep, one command:
 * `deno run -A tools/zoo/sweep.ts [--archs a,b,...] [--out out/zoo] [--no-timing]`.
 *
 * Per architecture, sequentially (it is CPU heavy): export with tools/zoo/export.py unless
 * `<out>/<arch>.onnx` exists (Debian python3-torchvision, random weights, no downloads), then
 * `deno task import --preset imagenet` under `/usr/bin/time` (import + compile seconds, peak
 * RSS), then tools/zoo/measure.ts in its own process under `/usr/bin/time` (the four methods on
 * the photos, energy against torch, ms/image; its peak RSS). Appends one JSON line per
 * architecture to `<out>/sweep.jsonl` and prints the markdown table (tools/zoo/table.ts).
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ZOO_ARCHS } from "./archs.ts";

const ARCHS = ZOO_ARCHS;
const PHOTOS = "tests/fixtures/zoo/photos";

/** Runs a command under GNU time; returns its stdout, stderr, wall seconds and peak RSS (MiB). */
async function timed(cmd: string[]) {
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "TIME %e %M", ...cmd],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  const m = /TIME ([\d.]+) (\d+)\s*$/.exec(stderr);
  return {
    ok: out.success,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: stderr.replace(/TIME [\d.]+ \d+\s*$/, "").trim(),
    seconds: m ? Number(m[1]) : NaN,
    peakMiB: m ? Number(m[2]) / 1024 : NaN,
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function sweepOne(arch: string, out: string, timing: boolean) {
  const onnx = join(out, `${arch}.onnx`);
  if (!(await exists(onnx))) {
    const e = await timed(["/usr/bin/python3", "tools/zoo/export.py", out, PHOTOS, arch]);
    if (!e.ok) return { arch, failed: `export: ${e.stderr.slice(-500)}` };
  }
  const models = join(out, "models");
  const imp = await timed([
    Deno.execPath(),
    ...["run", "-A", "src/cli/import.ts", onnx, "--preset", "imagenet"],
    ...["--models-dir", models, "--force", "--backend", "native"],
  ]);
  const importRow = {
    seconds: imp.seconds,
    peakMiB: imp.peakMiB,
    notes: imp.stderr.split("\n").filter((l) => /^(Note|Warning)/.test(l)),
  };
  if (!imp.ok) return { arch, import: importRow, failed: `import: ${imp.stderr.slice(-800)}` };
  const m = await timed([
    Deno.execPath(),
    ...["run", "-A", "tools/zoo/measure.ts", join(models, arch), join(out, `${arch}.json`), PHOTOS],
    ...(timing ? [] : ["--no-timing"]),
  ]);
  if (!m.ok) return { arch, import: importRow, failed: `measure: ${m.stderr.slice(-800)}` };
  return { ...JSON.parse(m.stdout), import: importRow, measure: { peakMiB: m.peakMiB } };
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      archs: { type: "string" },
      out: { type: "string", default: "out/zoo" },
      "no-timing": { type: "boolean" },
    },
  });
  const archs = values.archs?.split(",") ?? ARCHS;
  const unknown = archs.filter((a) => !ARCHS.includes(a));
  if (unknown.length) throw new Error(`Unknown architecture(s) ${unknown}; known: ${ARCHS}`);
  const out = values.out!;
  await Deno.mkdir(out, { recursive: true });
  for (const arch of archs) {
    const t0 = performance.now();
    const row = await sweepOne(arch, out, !values["no-timing"]);
    const line = JSON.stringify({ ...row, date: new Date().toISOString() });
    await Deno.writeTextFile(join(out, "sweep.jsonl"), line + "\n", { append: true });
    const took = ((performance.now() - t0) / 1000).toFixed(0);
    console.error(`${arch}: ${"failed" in row ? `FAILED ${row.failed}` : "ok"} (${took} s)`);
  }
}

if (import.meta.main) await main();
