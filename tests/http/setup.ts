/**
 * Test helpers for the HTTP app: an app over fake models, and NDJSON reading.
 * @module
 */
import { type Config, DEFAULT_CONFIG } from "../../src/config.ts";
import { type App, createApp } from "../../src/http/app.ts";
import {
  createFakeModel,
  createFakeRegistry,
  type FakeModel,
  type FakeRegistry,
} from "../helpers/fake_model.ts";
import type { FakeModelOptions } from "../helpers/fake_model.ts";

/** An app with one fake model ("fake") unless `models` are given. */
export interface TestApp {
  readonly app: App;
  readonly model: FakeModel;
  readonly registry: FakeRegistry;
  readonly config: Config;
}

/**
 * Builds an app over fake models with config overrides (batch wait 0 for speed, decoding on the
 * calling thread by default).
 */
export function testApp(
  config: Partial<Config> = {},
  options: { model?: FakeModelOptions; models?: FakeModel[]; ready?: boolean } = {},
): TestApp {
  const model = options.models?.[0] ?? createFakeModel(options.model);
  const registry = createFakeRegistry(options.models ?? [model], { ready: options.ready ?? true });
  const cfg: Config = {
    ...DEFAULT_CONFIG,
    batchWaitMs: 0,
    publicDir: "/nonexistent-public",
    // Decode on the calling thread: these tests time deadlines and batches in milliseconds, and
    // a worker's start-up (0.1–0.3 s on a loaded machine) would eat them. The worker pool has its
    // own tests (tests/image/decode_pool_test.ts, tests/http/decode_safety_test.ts).
    decodeWorkers: 0,
    ...config,
  };
  return { app: createApp({ registry, config: cfg }), model, registry, config: cfg };
}

/** Absolute URL for a path on the in-process app. */
export function url(path: string): string {
  return `http://localhost${path}`;
}

/** Reads a whole NDJSON response into parsed lines. */
export async function ndjson(res: Response): Promise<Record<string, unknown>[]> {
  const text = await res.text();
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

/** Yields NDJSON lines of a body as they arrive. */
export async function* lines(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<Record<string, unknown>> {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line !== "") yield JSON.parse(line);
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** A multipart body with one file part per entry. */
export function multipart(files: { name: string; bytes: Uint8Array; type?: string }[]): FormData {
  const form = new FormData();
  for (const f of files) {
    form.append(
      "image",
      new File([f.bytes as Uint8Array<ArrayBuffer>], f.name, { type: f.type ?? "image/png" }),
    );
  }
  return form;
}

/** Base64 of bytes. */
export function b64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
