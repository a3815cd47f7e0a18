/**
 * Decoder fuzzer: `deno task fuzz [--seconds N] [--seed S] [--rss-mb M] [--max-pixels P]`.
 *
 * Mutates valid PNG, JPEG, GIF and TIFF files (tools/fuzz/mutate.ts) and posts each one to the
 * in-process HTTP app (fake scorer, real decoders and decode pool), one request at a time.
 * Fails when a response is 5xx (or a streamed line says "internal"), or when RSS rises more than
 * `--rss-mb` (default 300) over the warmed-up baseline; the input is then saved under a temp
 * directory and the exit code is 1. Prints progress every 5 s and a summary, including the inputs
 * that raised RSS the most (format, mutations, status), which is how the spikes of issue 16 were
 * traced (docs/reliability.md).
 * @module
 */
import { DEFAULT_CONFIG } from "../../src/config.ts";
import { createApp } from "../../src/http/app.ts";
import { numberFlag, parseCommand, UsageError } from "../../src/cli/args.ts";
import { createFakeModel, createFakeRegistry } from "../../tests/helpers/fake_model.ts";
import { envelope } from "./envelope.ts";
import { mutate, Rng } from "./mutate.ts";
import { makeSeeds } from "./seeds.ts";

interface Args {
  seconds: number;
  seed: number;
  rssMb: number;
  maxPixels: number;
  workers: number;
}

const USAGE =
  `Usage: deno task fuzz [--seconds N] [--seed S] [--rss-mb M] [--max-pixels P] [--workers W]`;

/** Parses the flags with the CLIs' parser (src/cli/args.ts); throws a UsageError. */
export function parseFuzzArgs(argv: readonly string[]): Args {
  const flags = { type: "string" } as const;
  const { values: f } = parseCommand(argv, {
    seconds: flags,
    seed: flags,
    "rss-mb": flags,
    "max-pixels": flags,
    workers: flags,
  });
  // MAX_PIXELS 2048² by default: a legitimate decode then peaks near +100 MB, so the RSS bound
  // separates a limit bypass (GIF frame bombs reached +1.6 GB) from honest large images. With the
  // service default (4096²) a legitimate 200x65535 JPEG alone peaks near +330 MB.
  return {
    seconds: numberFlag(f, "seconds", 60),
    seed: numberFlag(f, "seed", Date.now() % 2 ** 31),
    rssMb: numberFlag(f, "rss-mb", 300),
    maxPixels: numberFlag(f, "max-pixels", 2 ** 22),
    workers: numberFlag(f, "workers", DEFAULT_CONFIG.decodeWorkers),
  };
}

/** The arguments, or usage on stderr and exit code 2. */
function argsOrExit(argv: readonly string[]): Args {
  try {
    return parseFuzzArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n${USAGE}`);
    Deno.exit(2);
  }
}

const MiB = 2 ** 20;
const rssMb = () => Deno.memoryUsage().rss / MiB;

/** Result of one input: HTTP status, error code, peak RSS while it ran, and time. */
interface Outcome {
  status: number;
  /** RSS just before the request (MB). */
  before: number;
  code: string;
  peakMb: number;
  ms: number;
  internal: boolean;
}

async function post(
  app: ReturnType<typeof createApp>,
  bytes: Uint8Array,
  name: string,
  type = "application/octet-stream",
): Promise<Outcome> {
  const before = rssMb();
  let peak = before;
  const sampler = setInterval(() => peak = Math.max(peak, rssMb()), 2);
  const t0 = performance.now();
  try {
    const req = new Request(`http://fuzz/v1/models/fake/score?name=${name}`, {
      method: "POST",
      body: bytes as Uint8Array<ArrayBuffer>,
      headers: { "content-type": type },
    });
    const res = await app.handler(req);
    const text = await res.text();
    let code = "";
    try {
      const first = JSON.parse(text.split("\n")[0]);
      code = first.error?.code ?? (first.score !== undefined ? "scored" : "");
    } catch { /* not JSON: reported by status */ }
    return {
      status: res.status,
      before,
      code,
      peakMb: Math.max(peak, rssMb()),
      ms: performance.now() - t0,
      internal: text.includes('"internal"'),
    };
  } finally {
    clearInterval(sampler);
  }
}

async function saveInput(bytes: Uint8Array, name: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "si-ood-fuzz-" });
  const path = `${dir}/${name}`;
  await Deno.writeFile(path, bytes);
  return path;
}

/** What a run has seen: outcome counts and the inputs that raised RSS most. */
class Tally {
  readonly statuses = new Map<string, number>();
  readonly worst: { rise: number; what: string }[] = [];
  readonly jumps: { rise: number; what: string }[] = [];

  add(key: string, rise: number, jump: number, what: string): void {
    this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
    Tally.#keep(this.worst, { rise, what });
    // The rise during this input alone attributes growth to an input (garbage of earlier
    // decodes not yet collected shows up in `rise` but not here).
    Tally.#keep(this.jumps, { rise: jump, what });
  }

  static #keep(top: { rise: number; what: string }[], x: { rise: number; what: string }): void {
    top.push(x);
    top.sort((a, b) => b.rise - a.rise).splice(5);
  }

  print(n: number, rssBound: number): void {
    console.log(`fuzz: ${n} inputs, no 5xx, RSS within +${rssBound} MB. Outcomes:`);
    for (const [k, c] of [...this.statuses].sort()) console.log(`  ${k.padEnd(40)} ${c}`);
    console.log("Largest RSS rises (peak during the request, over the baseline):");
    for (const w of this.worst) console.log(`  ${w.what}`);
    console.log("Largest RSS jumps during one input:");
    for (const w of this.jumps) console.log(`  +${w.rise.toFixed(0)} MB: ${w.what}`);
  }
}

function progress(n: number, tally: Tally): void {
  const m = Deno.memoryUsage();
  console.log(
    `  ${n} inputs, RSS ${(m.rss / MiB).toFixed(0)} MB (this thread's JS heap ` +
      `${(m.heapTotal / MiB).toFixed(0)} MB, external ${(m.external / MiB).toFixed(0)} MB), ` +
      `worst rise ${tally.worst[0].rise.toFixed(0)} MB`,
  );
}

async function main(): Promise<number> {
  const args = argsOrExit(Deno.args);
  const rng = new Rng(args.seed);
  const seeds = await makeSeeds();
  const config = {
    ...DEFAULT_CONFIG,
    batchWaitMs: 0,
    publicDir: "/none",
    maxPixels: args.maxPixels,
    decodeWorkers: args.workers,
  };
  const app = createApp({ registry: createFakeRegistry([createFakeModel()]), config });
  // Warm up: every seed once (workers started, codecs compiled), then take the baseline.
  for (const s of seeds) await post(app, s.bytes, s.name);
  const baseline = rssMb();
  console.log(
    `fuzz: seed ${args.seed}, ${args.seconds} s, ${seeds.length} seeds, MAX_PIXELS ` +
      `${args.maxPixels}, baseline RSS ${baseline.toFixed(0)} MB, bound +${args.rssMb} MB`,
  );
  const tally = new Tally();
  const end = performance.now() + args.seconds * 1000;
  let lastReport = performance.now();
  for (let n = 1; performance.now() < end; n++) {
    const seed = rng.pick(seeds);
    const mutated = mutate(seed, rng);
    const env = envelope(mutated.bytes, seed.name, rng);
    const { body: bytes, how } = { body: env.body, how: [...mutated.how, env.how].filter(Boolean) };
    const out = await post(app, bytes, seed.name, env.type);
    const rise = out.peakMb - baseline;
    const what = `${seed.name} [${how.join("+")}] → ${out.status} ${out.code}, ` +
      `${bytes.length} B, ${out.ms.toFixed(0)} ms, peak +${rise.toFixed(0)} MB`;
    tally.add(`${seed.format} ${out.status} ${out.code}`, rise, out.peakMb - out.before, what);
    const failure = out.status >= 500 || out.internal
      ? `server error ${out.status}`
      : rise > args.rssMb
      ? `RSS rose ${rise.toFixed(0)} MB over the baseline (bound ${args.rssMb})`
      : undefined;
    if (failure) {
      const path = await saveInput(bytes, `input-${n}-${seed.name}`);
      console.error(`FAIL after ${n} inputs: ${failure}\n  input: ${what}\n  saved: ${path}`);
      console.error(`  reproduce: deno task fuzz --seed ${args.seed} (input #${n})`);
      return 1;
    }
    if (performance.now() - lastReport > 5000) {
      lastReport = performance.now();
      progress(n, tally);
    }
    if (performance.now() >= end) tally.print(n, args.rssMb);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main());
