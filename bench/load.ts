/**
 * Load test of the HTTP service, loopback only and bounded in time: N concurrent single-image
 * requests against a server started in-process on port 0 (fake model by default, or the real
 * models with `--real`). Reports status counts, lost/duplicated lines, 5xx other than 503,
 * latency p50/p95 and peak RSS; writes JSON to bench/results/load-<host>.json.
 *
 *   deno run -A bench/load.ts [--requests=200] [--quick] [--real] [--model=<id>] [--delay-ms=5]
 *                             [--queue=256] [--batch-max=32] [--out=file.json]
 * @module
 */
import { type Config, DEFAULT_CONFIG } from "../src/config.ts";
import { createApp } from "../src/http/app.ts";
import type { ModelRegistry } from "../src/models/types.ts";
import { loadModels } from "../src/serve/load_models.ts";
import { startServer } from "../src/http/server.ts";
import { createFakeModel, createFakeRegistry } from "../tests/helpers/fake_model.ts";
import { solidPng } from "../tests/http/png.ts";

/** Options of `runLoadBench`. */
export interface LoadBenchOptions {
  /** Concurrent single-image requests (default 200; 50 with `quick`). */
  readonly requests?: number;
  /** CI smoke mode: fewer requests and a 30 s limit (used by `deno task bench --quick --load`). */
  readonly quick?: boolean;
  /** Use the configured real models instead of the fake one (default false). */
  readonly real?: boolean;
  /** Model id to score with (default: "fake", or the first real model). */
  readonly model?: string;
  /** Fake model delay per batch in ms (default 5). */
  readonly fakeDelayMs?: number;
  /** Whole-run time limit in ms (default 120000); unfinished requests count as lost. */
  readonly timeoutMs?: number;
  /** Service config overrides (e.g. queueMaxImages to provoke 503s). */
  readonly config?: Partial<Config>;
  /** Where to write the JSON (default bench/results/load-<host>.json); null = don't write. */
  readonly out?: string | null;
}

/** What `runLoadBench` measured. */
export interface LoadBenchResult {
  readonly host: string;
  readonly model: string;
  readonly requests: number;
  readonly statuses: Record<string, number>;
  /** Image lines expected from 200 responses but missing. */
  readonly lostLines: number;
  /** Image lines received more than once, or for an index that was never sent. */
  readonly duplicatedLines: number;
  /** 5xx responses other than 503 back-pressure (must be 0). */
  readonly serverErrors: number;
  /** Requests that failed at the transport level or timed out. */
  readonly failed: number;
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly max: number };
  readonly wallMs: number;
  readonly imagesPerSecond: number;
  readonly peakRssBytes: number;
  readonly ok: boolean;
  readonly date: string;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function registryFor(opts: LoadBenchOptions, config: Config): Promise<ModelRegistry> {
  if (!opts.real) {
    return createFakeRegistry([createFakeModel({ delayMs: opts.fakeDelayMs ?? 5 })]);
  }
  return await loadModels(config);
}

/** Runs the load test (see the module doc). */
export async function runLoadBench(opts: LoadBenchOptions = {}): Promise<LoadBenchResult> {
  const n = opts.requests ?? (opts.quick ? 50 : 200);
  const config: Config = { ...DEFAULT_CONFIG, port: 0, hostname: "127.0.0.1", ...opts.config };
  const registry = await registryFor(opts, config);
  const modelId = opts.model ?? registry.list()[0]?.id;
  if (!modelId) {
    throw new Error(`Cannot run the load test: no model loaded from "${config.modelsDir}"`);
  }
  const app = createApp({ registry, config });
  const server = startServer(app, { port: 0, hostname: "127.0.0.1", shutdownTimeoutMs: 10_000 });

  let peakRss = Deno.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, Deno.memoryUsage().rss)), 25);
  const deadline = AbortSignal.timeout(opts.timeoutMs ?? (opts.quick ? 30_000 : 120_000));
  const png = await solidPng(128, 28);
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let lost = 0, duplicated = 0, serverErrors = 0, failed = 0;
  const base = `http://127.0.0.1:${server.addr.port}/v1/models/${modelId}/score`;

  const one = async (i: number) => {
    const t0 = performance.now();
    try {
      const res = await fetch(`${base}?name=req-${i}`, {
        method: "POST",
        body: png,
        headers: { "content-type": "image/png" },
        signal: deadline,
      });
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const text = await res.text();
      if (res.status >= 500 && res.status !== 503) serverErrors++;
      if (res.status !== 200) return;
      const lines = text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
      const mine = lines.filter((l) => "index" in l);
      const good = mine.filter((l) => l.index === 0 && l.name === `req-${i}`);
      if (good.length === 0) lost++;
      duplicated += mine.length - Math.min(good.length, 1);
      if (!lines.some((l) => "summary" in l)) lost++;
      latencies.push(performance.now() - t0);
    } catch {
      failed++;
    }
  };

  const t0 = performance.now();
  try {
    await Promise.all(Array.from({ length: n }, (_, i) => one(i)));
  } finally {
    clearInterval(sampler);
    await server.shutdown();
    // Worker-backed scorers keep the process alive until terminated.
    for (const m of registry.list()) (m.scorer as { terminate?: () => void }).terminate?.();
  }
  const wallMs = performance.now() - t0;
  latencies.sort((a, b) => a - b);
  const scored = latencies.length;
  const result: LoadBenchResult = {
    host: Deno.hostname(),
    model: modelId,
    requests: n,
    statuses,
    lostLines: lost,
    duplicatedLines: duplicated,
    serverErrors,
    failed,
    latencyMs: {
      p50: Math.round(quantile(latencies, 0.5) * 10) / 10,
      p95: Math.round(quantile(latencies, 0.95) * 10) / 10,
      max: Math.round((latencies.at(-1) ?? NaN) * 10) / 10,
    },
    wallMs: Math.round(wallMs),
    imagesPerSecond: Math.round((scored / wallMs) * 1000 * 10) / 10,
    peakRssBytes: peakRss,
    ok: lost === 0 && duplicated === 0 && serverErrors === 0 && failed === 0,
    date: new Date().toISOString(),
  };
  const out = opts.out === undefined
    ? new URL(`./results/load-${Deno.hostname()}.json`, import.meta.url)
    : opts.out;
  if (out !== null) {
    await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
    await Deno.writeTextFile(out, JSON.stringify(result, null, 2) + "\n");
  }
  return result;
}

function flag(name: string): string | undefined {
  const hit = Deno.args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  return hit === undefined ? undefined : (hit.split("=")[1] ?? "true");
}

if (import.meta.main) {
  const queue = flag("queue");
  const batchMax = flag("batch-max");
  const result = await runLoadBench({
    requests: flag("requests") ? Number(flag("requests")) : undefined,
    quick: flag("quick") !== undefined,
    real: flag("real") !== undefined,
    model: flag("model"),
    fakeDelayMs: Number(flag("delay-ms") ?? 5),
    out: flag("out"),
    config: {
      ...(queue ? { queueMaxImages: Number(queue) } : {}),
      ...(batchMax ? { batchMax: Number(batchMax) } : {}),
    },
  });
  console.log(JSON.stringify(result, null, 2));
  Deno.exit(result.ok ? 0 : 1);
}
