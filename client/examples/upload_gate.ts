/**
 * Example edge function: reject uploads of images the model was not trained for.
 *
 * Put it in front of whatever stores or classifies uploads (Deno Deploy, Cloudflare Workers,
 * Vercel Edge — anything with `fetch`). Each uploaded image is scored by the OOD service; the
 * first image flagged OOD rejects the upload with 422, and leaving the loop early cancels the
 * scoring of the images after it. The gate fails closed: if the service cannot answer, nothing
 * gets through.
 * @module
 */
import { createClient, isErrorLine, SiApiError } from "../mod.ts";

/** How the gate reaches the OOD service and what it protects. */
export interface UploadGateOptions {
  /** Base URL of the OOD service. */
  readonly serviceUrl: string;
  /** Bearer token of the service, if it requires one. */
  readonly token?: string;
  /** Model whose training distribution uploads must match. */
  readonly model: string;
  /** Called with the accepted images; its response is returned to the uploader. */
  readonly accept: (files: File[]) => Promise<Response>;
  /** `fetch` towards the service (default: global fetch). */
  readonly fetch?: (req: Request) => Promise<Response>;
}

/** Why an upload was turned away. */
export interface Rejection {
  readonly name: string;
  readonly reason: string;
  readonly score?: number;
  readonly threshold?: number | null;
}

/** Creates the gate: a `(Request) => Promise<Response>` handler for multipart uploads. */
export function createUploadGate(options: UploadGateOptions): (req: Request) => Promise<Response> {
  const client = createClient({
    baseUrl: options.serviceUrl,
    token: options.token,
    fetch: options.fetch,
  });

  return async (req) => {
    let files: File[];
    try {
      const form = await req.formData();
      files = [...form.values()].filter((v): v is File => v instanceof File);
    } catch {
      return Response.json({ error: "Send the images as multipart/form-data" }, { status: 400 });
    }
    if (files.length === 0) return Response.json({ error: "No images" }, { status: 400 });

    let rejection: Rejection | undefined;
    try {
      for await (const line of client.scoreImages(options.model, files, { signal: req.signal })) {
        if (isErrorLine(line)) {
          rejection = { name: line.name, reason: line.error.message };
        } else if (line.ood !== false) {
          // `ood: null` means the model has no calibration: fail closed as well.
          rejection = {
            name: line.name,
            reason: line.ood ? "not what the model was trained for" : "no calibration",
            score: line.score,
            threshold: line.threshold,
          };
        }
        if (rejection) break; // cancels the scoring of the remaining images
      }
    } catch (e) {
      if (e instanceof SiApiError && e.status === 503) {
        const headers = e.retryAfter ? { "retry-after": String(e.retryAfter) } : undefined;
        return Response.json({ error: "OOD check busy, retry later" }, { status: 503, headers });
      }
      const detail = e instanceof SiApiError ? `${e.code}: ${e.message}` : String(e);
      return Response.json({ error: `OOD check failed (${detail})` }, { status: 502 });
    }
    if (rejection) return Response.json({ rejected: rejection }, { status: 422 });
    return await options.accept(files);
  };
}
