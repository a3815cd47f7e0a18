/**
 * A tiny in-process stand-in for the service API, so client tests do not depend on the engine.
 * It speaks the wire format of issue 5 with deliberately trivial arithmetic:
 * an image's score is its byte length / 100, `ood` when that is below `THRESHOLD`, class 0.
 * Parts whose type is not `image/*` get an error line. A gate lets tests hold the last line back.
 * @module
 */

/** Threshold of the fake calibration. */
export const THRESHOLD = 0.5;
/** The fake model's calibration scores (sorted). */
export const CALIBRATION_SCORES = [0.2, 0.4, 0.6, 0.8];

/** A controllable fake API. */
export interface FakeApi {
  handler(req: Request): Promise<Response>;
  /** A copy of every request received, in order, with its body still readable. */
  readonly requests: Request[];
  /** While set, the stream waits on it before writing the last per-image line. */
  gate: Promise<void> | undefined;
  /** True once the stream has written its last line (set just before closing). */
  finished: boolean;
  /** True when the client cancelled the response body. */
  cancelled: boolean;
}

const MODEL = {
  id: "fake",
  backend: "wasm",
  labels: ["zero"],
  manifest: { name: "fake" },
  calibration: [{ method: "si", threshold: THRESHOLD, scores: CALIBRATION_SCORES, count: 4 }],
};

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function error(status: number, code: string, message: string, headers = {}): Response {
  return json(status, { error: { code, message } }, headers);
}

/** Creates a fake API; `token` enables bearer auth, `overloaded` answers every score with 503. */
export function createFakeApi(options: { token?: string; overloaded?: boolean } = {}): FakeApi {
  const api: FakeApi = {
    requests: [],
    gate: undefined,
    finished: false,
    cancelled: false,
    handler(req) {
      api.requests.push(req.clone()); // a clone: the handler consumes the body
      if (options.token && req.headers.get("authorization") !== `Bearer ${options.token}`) {
        return Promise.resolve(error(401, "unauthorized", "Missing or wrong bearer token"));
      }
      const path = new URL(req.url).pathname;
      if (req.method === "GET" && path === "/v1/models") {
        return Promise.resolve(json(200, { models: [MODEL] }));
      }
      const match = path.match(/^\/v1\/models\/([^/]+)(\/score)?$/);
      if (!match || decodeURIComponent(match[1]) !== MODEL.id) {
        return Promise.resolve(error(404, "not_found", "No such model"));
      }
      if (!match[2]) return Promise.resolve(json(200, MODEL));
      if (options.overloaded) {
        return Promise.resolve(error(503, "overloaded", "Queue full", { "retry-after": "3" }));
      }
      return score(api, req);
    },
  };
  return api;
}

async function score(api: FakeApi, req: Request): Promise<Response> {
  const form = await req.formData();
  const files = form.getAll("image").filter((v): v is File => v instanceof File);
  const method = new URL(req.url).searchParams.get("method") ?? "si";
  const lines = await Promise.all(files.map(async (file, index) => {
    if (!file.type.startsWith("image/")) {
      return { index, name: file.name, error: { code: "corrupt_image", message: "Not an image" } };
    }
    const s = (await file.arrayBuffer()).byteLength / 100;
    const below = CALIBRATION_SCORES.filter((c) => c <= s).length;
    return {
      index,
      name: file.name,
      score: s,
      ood: s < THRESHOLD,
      threshold: THRESHOLD,
      p_value: below / CALIBRATION_SCORES.length,
      class: 0,
      label: "zero",
      confidence: 1,
      method,
    };
  }));
  const encoder = new TextEncoder();
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i === lines.length - 1 && api.gate) await api.gate;
      if (i < lines.length) {
        controller.enqueue(encoder.encode(JSON.stringify(lines[i++]) + "\n"));
        return;
      }
      controller.enqueue(encoder.encode(JSON.stringify({ summary: { count: lines.length } })));
      api.finished = true;
      controller.close();
    },
    cancel() {
      api.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return new Response(body, { headers: { "content-type": "application/x-ndjson" } });
}
