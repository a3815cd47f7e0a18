/**
 * Smoke check of a running deployment: health, readiness, the model list, and one scored image
 * whose NDJSON answer is checked line by line.
 *
 * ```sh
 * deno run -A deploy/smoke.ts https://si-ood.example.com [--image shirt.png] [--model fmnist-wrn40]
 *   [--token T] [--wait-ready 120] [--allow-not-ready]
 * ```
 * Exit code 0 when every check passes (or is skipped because the server is not ready and
 * `--allow-not-ready` was given), else 1.
 * @module
 */
import { encodeGrayPng } from "./lib/png.ts";
import { checkScoreStream } from "./lib/ndjson_shape.ts";

/** Options of {@link runSmoke}. */
export interface SmokeOptions {
  /** Base URL of the service, e.g. `http://127.0.0.1:8000`. */
  readonly baseUrl: string;
  /** Model to score with; default: the first one `GET /v1/models` lists. */
  readonly model?: string;
  /** Image bytes to score; default: a 28×28 Fashion-MNIST PNG made in-script. */
  readonly image?: Uint8Array;
  /** Media type of `image` (default: sniffed PNG/JPEG/GIF/TIFF, else image/png). */
  readonly imageType?: string;
  /** Bearer token for /v1/* when the service sets AUTH_TOKEN. */
  readonly token?: string;
  /** How long to poll /readyz for 200 before giving up (default 0: ask once). */
  readonly waitReadyMs?: number;
  /** When the service is not ready: true = skip the model checks, false (default) = fail. */
  readonly allowNotReady?: boolean;
  /** Per-request timeout (default 120 s: a cold S&I batch on a small CPU can take a while). */
  readonly timeoutMs?: number;
}

/** The outcome of one check. */
export interface SmokeCheck {
  readonly name: string;
  readonly status: "pass" | "fail" | "skip";
  readonly detail: string;
}

/** What {@link runSmoke} found. */
export interface SmokeReport {
  /** True when no check failed. */
  readonly ok: boolean;
  /** Whether /readyz answered 200. */
  readonly ready: boolean;
  readonly checks: readonly SmokeCheck[];
}

/** Runs the smoke checks against `options.baseUrl`; never throws for a service fault. */
export async function runSmoke(options: SmokeOptions): Promise<SmokeReport> {
  const base = options.baseUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 120_000;
  const auth: Record<string, string> = options.token
    ? { authorization: `Bearer ${options.token}` }
    : {};
  const checks: SmokeCheck[] = [];
  const pass = (name: string, detail: string) => checks.push({ name, status: "pass", detail });
  const fail = (name: string, detail: string) => checks.push({ name, status: "fail", detail });
  const skip = (name: string, detail: string) => checks.push({ name, status: "skip", detail });
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(timeoutMs) });
  const done = (ready: boolean): SmokeReport => ({
    ok: checks.every((c) => c.status !== "fail"),
    ready,
    checks,
  });

  try {
    const res = await get("/healthz");
    await res.body?.cancel();
    if (res.status === 200) pass("GET /healthz", "200");
    else fail("GET /healthz", `expected 200, got ${res.status}`);
  } catch (e) {
    fail("GET /healthz", `unreachable: ${errorText(e)}`);
    return done(false);
  }

  const ready = await waitReady(get, options.waitReadyMs ?? 0);
  if (ready.status === 200) pass("GET /readyz", "200");
  else if (options.allowNotReady) skip("GET /readyz", `not ready (${ready.detail})`);
  else fail("GET /readyz", `expected 200, got ${ready.detail}`);
  if (ready.status !== 200) {
    for (const name of ["GET /v1/models", "POST /v1/models/{model}/score"]) {
      skip(name, "server not ready");
    }
    return done(false);
  }

  let model = options.model;
  try {
    const res = await get("/v1/models", auth);
    const body = res.status === 200 ? await res.json() : await res.text();
    const list = Array.isArray(body) ? body : (body as { models?: unknown })?.models;
    const ids = Array.isArray(list)
      ? list.map((m) => (m as { id?: unknown })?.id).filter((id) => typeof id === "string")
      : [];
    if (res.status !== 200) fail("GET /v1/models", `expected 200, got ${res.status}`);
    else if (ids.length === 0) fail("GET /v1/models", "no model with an id in the answer");
    else if (model !== undefined && !ids.includes(model)) {
      fail("GET /v1/models", `model "${model}" not served (have: ${ids.join(", ")})`);
    } else {
      model ??= ids[0] as string;
      pass("GET /v1/models", `${ids.length} model(s): ${ids.join(", ")}`);
    }
  } catch (e) {
    fail("GET /v1/models", errorText(e));
  }
  if (model === undefined || checks.at(-1)?.status === "fail") {
    skip("POST /v1/models/{model}/score", "no model to score with");
    return done(true);
  }

  const name = `POST /v1/models/${model}/score`;
  try {
    const image = options.image ?? await sampleImage();
    const res = await fetch(`${base}/v1/models/${encodeURIComponent(model)}/score`, {
      method: "POST",
      headers: { ...auth, "content-type": options.imageType ?? sniffType(image) },
      body: image as Uint8Array<ArrayBuffer>,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const type = res.headers.get("content-type") ?? "";
    const text = await res.text();
    if (res.status !== 200) fail(name, `expected 200, got ${res.status}: ${text.slice(0, 200)}`);
    else if (!type.includes("ndjson")) fail(name, `expected an NDJSON content type, got "${type}"`);
    else {
      const problems = checkScoreStream(text, 1);
      if (problems.length > 0) fail(name, problems.join("; "));
      else pass(name, `1 image scored: ${text.split("\n")[0]}`);
    }
  } catch (e) {
    fail(name, errorText(e));
  }
  return done(true);
}

async function waitReady(
  get: (path: string) => Promise<Response>,
  waitMs: number,
): Promise<{ status: number; detail: string }> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    let last: { status: number; detail: string };
    try {
      const res = await get("/readyz");
      await res.body?.cancel();
      last = { status: res.status, detail: String(res.status) };
    } catch (e) {
      last = { status: 0, detail: errorText(e) };
    }
    if (last.status === 200 || Date.now() >= deadline) return last;
    await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(0, deadline - Date.now()))));
  }
}

/** A 28×28 in-distribution image: the first Fashion-MNIST test image of the fixtures, else a plain shirt-like blob. */
export async function sampleImage(): Promise<Uint8Array> {
  let pixels: Uint8Array;
  try {
    const url = new URL("../tests/fixtures/wrn40-fmnist/id-fmnist.u8", import.meta.url);
    pixels = (await Deno.readFile(url)).slice(0, 28 * 28);
    if (pixels.length !== 28 * 28) throw new Error("short fixture");
  } catch {
    // Outside a checkout (or without read permission): a bright T-shaped silhouette.
    pixels = new Uint8Array(28 * 28);
    for (let y = 4; y < 26; y++) {
      for (let x = 4; x < 24; x++) {
        if (y < 10 || (x >= 9 && x < 19)) pixels[y * 28 + x] = 200;
      }
    }
  }
  return await encodeGrayPng(pixels, 28, 28);
}

function sniffType(b: Uint8Array): string {
  if (b[0] === 0xff && b[1] === 0xd8) return "image/jpeg";
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return "image/gif";
  if ((b[0] === 0x49 && b[1] === 0x49) || (b[0] === 0x4d && b[1] === 0x4d)) return "image/tiff";
  return "image/png";
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Formats a report for people: one line per check and a verdict. */
export function formatReport(report: SmokeReport): string {
  const mark = { pass: "PASS", fail: "FAIL", skip: "SKIP" } as const;
  const lines = report.checks.map((c) => `${mark[c.status]}  ${c.name}  ${c.detail}`);
  const failed = report.checks.filter((c) => c.status === "fail").length;
  lines.push(
    report.ok
      ? `smoke: OK${report.ready ? "" : " (not ready: model checks skipped)"}`
      : `smoke: ${failed} check(s) FAILED`,
  );
  return lines.join("\n");
}

function parseArgs(args: readonly string[]): SmokeOptions & { imagePath?: string } {
  const usage =
    "usage: deno run -A deploy/smoke.ts <base-url> [--image path] [--model id] [--token T] [--wait-ready seconds] [--allow-not-ready]";
  let baseUrl: string | undefined;
  const out: { -readonly [K in keyof SmokeOptions]?: SmokeOptions[K] } & { imagePath?: string } =
    {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${usage}`);
      return v;
    };
    if (a === "--image") out.imagePath = value();
    else if (a === "--model") out.model = value();
    else if (a === "--token") out.token = value();
    else if (a === "--wait-ready") out.waitReadyMs = Number(value()) * 1000;
    else if (a === "--allow-not-ready") out.allowNotReady = true;
    else if (a.startsWith("-") || baseUrl !== undefined) {
      throw new Error(`unexpected "${a}"\n${usage}`);
    } else baseUrl = a;
  }
  if (baseUrl === undefined || !/^https?:\/\//.test(baseUrl)) {
    throw new Error(`a base URL (http:// or https://) is required\n${usage}`);
  }
  return { ...out, baseUrl };
}

if (import.meta.main) {
  let options;
  try {
    options = parseArgs(Deno.args);
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(2);
  }
  const image = options.imagePath ? await Deno.readFile(options.imagePath) : undefined;
  const token = options.token ?? Deno.env.get("AUTH_TOKEN");
  const report = await runSmoke({ ...options, image, token });
  console.log(formatReport(report));
  Deno.exit(report.ok ? 0 : 1);
}
