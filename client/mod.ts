/**
 * A small typed client for the S&I OOD service. Uses only `fetch` and web streams, so it runs in
 * Deno, browsers and edge runtimes (Deno Deploy, Cloudflare Workers, Vercel Edge, …).
 *
 * ```ts
 * const client = createClient({ baseUrl: "http://localhost:8000" });
 * const run = client.scoreImages("wrn40-fmnist", [file]);
 * for await (const line of run) console.log(line);
 * console.log(run.summary);
 * ```
 * @module
 */
import { readNdjson } from "./ndjson.ts";
import type {
  ImageInput,
  ModelInfo,
  ModelSummary,
  ResultLine,
  ScoreOptions,
  ScoreSummary,
} from "./types.ts";

export * from "./types.ts";
export { readNdjson } from "./ndjson.ts";

/** A whole-request failure reported by the service (`{"error": {"code", "message"}}`). */
export class SiApiError extends Error {
  /** HTTP status of the response (the stream's status for errors reported mid-stream). */
  readonly status: number;
  /** Machine-readable code, e.g. `not_found`, `overloaded`, or `truncated` for a cut stream. */
  readonly code: string;
  /** Seconds to wait before retrying, from `Retry-After` (503 back-pressure). */
  readonly retryAfter?: number;
  constructor(status: number, code: string, message: string, retryAfter?: number) {
    super(message);
    this.name = "SiApiError";
    this.status = status;
    this.code = code;
    if (retryAfter !== undefined) this.retryAfter = retryAfter;
  }
}

/** How to reach the service. */
export interface ClientOptions {
  /** Service origin, optionally with a path prefix, e.g. `https://ood.example.com/api`. */
  readonly baseUrl: string;
  /** Bearer token, when the service runs with `AUTH_TOKEN`. */
  readonly token?: string;
  /** A `fetch` implementation; defaults to the global one. Tests pass an in-process handler. */
  readonly fetch?: (request: Request) => Promise<Response>;
}

/** One scoring request: iterate it (once) for the per-image lines as they stream in. */
export interface ScoreRun extends AsyncIterable<ResultLine> {
  /** The final summary line; set once iteration has completed. */
  readonly summary: ScoreSummary | undefined;
  /** Reads the whole stream: every per-image line (in arrival order) and the summary. */
  collect(): Promise<{ results: ResultLine[]; summary: ScoreSummary }>;
}

/** The client's operations. */
export interface SiClient {
  /**
   * Uploads images to `POST /v1/models/{model}/score`. Nothing is sent until iteration starts.
   * Whole-request errors throw {@link SiApiError} from the iteration; per-image problems arrive as
   * error lines (see `isErrorLine`). Breaking out of the loop cancels the server's remaining work.
   */
  scoreImages(model: string, images: readonly ImageInput[], opts?: ScoreOptions): ScoreRun;
  /** `GET /v1/models`: every served model, briefly. */
  listModels(signal?: AbortSignal): Promise<ModelSummary[]>;
  /**
   * `GET /v1/models/{id}`: labels, manifest and calibrations (with the sorted ID scores).
   * Throws {@link SiApiError} with status 404 for an unknown model.
   */
  getModel(id: string, signal?: AbortSignal): Promise<ModelInfo>;
}

/**
 * Creates a client bound to one service.
 *
 * @example Score an image and read its verdict as it streams in
 * ```ts
 * import { createClient, isErrorLine } from "./mod.ts";
 *
 * const client = createClient({ baseUrl: "http://localhost:8000" });
 * const [model] = await client.listModels();
 * const image = { name: "digit.png", data: await Deno.readFile("digit.png") };
 * const run = client.scoreImages(model.id, [image], { method: "si" });
 * for await (const line of run) {
 *   if (isErrorLine(line)) console.log(`${line.name}: ${line.error.message}`);
 *   else console.log(`${line.name}: class ${line.class}, score ${line.score}`);
 * }
 * console.log(`${run.summary?.scored} of ${run.summary?.images} scored by ${run.summary?.model}`);
 * ```
 */
export function createClient(options: ClientOptions): SiClient {
  const base = options.baseUrl.replace(/\/+$/, "");
  const doFetch = options.fetch ?? ((req: Request) => fetch(req));
  const auth: Record<string, string> = options.token
    ? { authorization: `Bearer ${options.token}` }
    : {};

  async function send(req: Request): Promise<Response> {
    const res = await doFetch(req);
    if (!res.ok) throw await errorFromResponse(res);
    return res;
  }

  async function getJson(path: string, signal?: AbortSignal): Promise<unknown> {
    const req = new Request(base + path, {
      headers: { accept: "application/json", ...auth },
      signal,
    });
    return await (await send(req)).json();
  }

  return {
    scoreImages(model, images, opts = {}) {
      const url = new URL(`${base}/v1/models/${encodeURIComponent(model)}/score`);
      for (const key of ["method", "alpha", "iterations", "loss", "integrate"] as const) {
        const value = opts[key];
        if (value !== undefined) url.searchParams.set(key, String(value));
      }
      const makeRequest = () =>
        new Request(url, {
          method: "POST",
          headers: {
            accept: "application/x-ndjson",
            ...auth,
            ...(opts.timeoutSeconds === undefined
              ? {}
              : { "x-request-timeout": String(opts.timeoutSeconds) }),
          },
          body: toFormData(images),
          signal: opts.signal,
        });
      return createRun(() => send(makeRequest()));
    },
    async listModels(signal) {
      const body = await getJson("/v1/models", signal);
      const models = (body as { models?: unknown }).models;
      if (Array.isArray(models)) return models as ModelSummary[];
      throw new SiApiError(200, "bad_response", "GET /v1/models returned no model list");
    },
    async getModel(id, signal) {
      return await getJson(`/v1/models/${encodeURIComponent(id)}`, signal) as ModelInfo;
    },
  };
}

function createRun(start: () => Promise<Response>): ScoreRun {
  let summary: ScoreSummary | undefined;
  let started = false;

  async function* iterate(): AsyncGenerator<ResultLine> {
    if (started) throw new Error("A ScoreRun can be iterated only once");
    started = true;
    const res = await start();
    if (!res.body) throw new SiApiError(res.status, "bad_response", "Score response has no body");
    for await (const value of readNdjson(res.body)) {
      const line = value as Record<string, unknown>;
      if (line.summary && typeof line.summary === "object") {
        summary = line.summary as ScoreSummary;
      } else if (typeof line.index === "number") {
        yield line as unknown as ResultLine;
      } else if (line.error && typeof line.error === "object") {
        // The request failed after streaming began (e.g. the server is shutting down).
        const { code, message } = line.error as { code?: string; message?: string };
        throw new SiApiError(res.status, code ?? "internal", message ?? "Scoring failed");
      }
    }
    if (summary === undefined) {
      // Without the summary some lines may be missing: a gate must not treat this as complete.
      throw new SiApiError(res.status, "truncated", "The score stream ended before its summary");
    }
  }

  return {
    get summary() {
      return summary;
    },
    [Symbol.asyncIterator]: iterate,
    async collect() {
      const results: ResultLine[] = [];
      for await (const line of iterate()) results.push(line);
      return { results, summary: summary as ScoreSummary };
    },
  };
}

/** Reads `{"error": {"code", "message"}}` from a failed response, tolerating other bodies. */
async function errorFromResponse(res: Response): Promise<SiApiError> {
  const retryHeader = res.headers.get("retry-after");
  const retryAfter = retryHeader !== null && /^\d+$/.test(retryHeader)
    ? Number(retryHeader)
    : undefined;
  const text = await res.text().catch(() => "");
  try {
    const { error } = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (error && typeof error.code === "string") {
      return new SiApiError(res.status, error.code, error.message ?? res.statusText, retryAfter);
    }
  } catch {
    // Not JSON (e.g. a proxy's HTML error page): fall through to a generic error.
  }
  return new SiApiError(
    res.status,
    `http_${res.status}`,
    text.slice(0, 200) || res.statusText,
    retryAfter,
  );
}

/** One multipart file part per image, so names survive and one request shape serves 1..N. */
function toFormData(images: readonly ImageInput[]): FormData {
  const form = new FormData();
  images.forEach((image, i) => {
    const { blob, name } = toBlob(image, i);
    form.append("image", blob, name);
  });
  return form;
}

function toBlob(image: ImageInput, i: number): { blob: Blob; name: string } {
  if (image instanceof Uint8Array) {
    return { blob: bytesToBlob(image, undefined), name: `image-${i}` };
  }
  if (image instanceof Blob) {
    const name = (image as { name?: unknown }).name;
    return { blob: image, name: typeof name === "string" && name ? name : `image-${i}` };
  }
  const name = image.name ?? `image-${i}`;
  if (image.data instanceof Blob) {
    const blob = image.type && image.type !== image.data.type
      ? new Blob([image.data], { type: image.type })
      : image.data;
    return { blob, name };
  }
  return { blob: bytesToBlob(image.data, image.type), name };
}

function bytesToBlob(bytes: Uint8Array, type: string | undefined): Blob {
  // Copy into a plain ArrayBuffer: a view over a SharedArrayBuffer is not a valid BlobPart.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Blob([copy.buffer], { type: type ?? sniffType(bytes) });
}

/** Media type from the magic bytes of the formats the service accepts. */
export function sniffType(bytes: Uint8Array): string {
  const b = bytes;
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "image/png";
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return "image/gif";
  if (
    (b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) ||
    (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a)
  ) return "image/tiff";
  return "application/octet-stream";
}
