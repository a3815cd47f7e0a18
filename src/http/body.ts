/**
 * Request bodies: reading with a byte limit, and splitting into image parts
 * (raw image, multipart/form-data, or JSON with base64 images).
 * @module
 */
import { ApiError } from "../errors.ts";
import { readJsonImages } from "./json_images.ts";
import { readMultipart } from "./multipart.ts";

/** One image carried by a request, not yet decoded. */
export interface ImagePart {
  readonly name: string;
  /** The encoded file; absent when the part itself was unusable (then `error` says why). */
  readonly bytes?: Uint8Array;
  readonly error?: ApiError;
}

/** The images of a request. */
export interface ParsedBody {
  readonly parts: readonly ImagePart[];
  /** True when the body was one raw image (its errors are whole-request errors). */
  readonly single: boolean;
}

const IMAGE_TYPES = ["image/png", "image/jpeg", "image/jpg", "image/gif", "image/tiff"];

function tooLarge(limit: number): ApiError {
  return new ApiError(
    413,
    "payload_too_large",
    `Cannot read request body: it exceeds the limit of ${limit} bytes`,
  );
}

/** How long a body read may take, and what else may end it. */
export interface ReadOptions {
  /** The whole body must arrive within this many milliseconds (→ 408 timeout). */
  readonly timeoutMs?: number;
  /** Aborting it ends the read with the signal's reason (the service shutting down). */
  readonly signal?: AbortSignal;
}

/**
 * Reads the whole body, failing with 413 as soon as it passes `limit` bytes (Content-Length is
 * checked first as a shortcut, but never trusted alone), with 400 when it is empty, with 408 when
 * it has not all arrived within `timeoutMs` (a slow upload), and with `signal`'s reason when that
 * aborts (shutdown does not wait for uploads).
 */
export async function readBody(
  req: Request,
  limit: number,
  options: ReadOptions = {},
): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (req.body) {
    const reader = req.body.getReader();
    const stop = stopper(options);
    try {
      while (true) {
        const { done, value } = await Promise.race([reader.read(), stop.promise]);
        if (done) break;
        total += value.length;
        if (total > limit) throw tooLarge(limit);
        chunks.push(value);
      }
    } catch (e) {
      await reader.cancel().catch(() => {});
      if (e instanceof ApiError) throw e;
      // Deno's reader fails on a broken upload (bad chunked framing, a reset): a client error.
      throw new ApiError(
        400,
        "bad_request",
        `Cannot read request body: ${e instanceof Error ? e.message : String(e)}`,
      );
    } finally {
      stop.clear();
    }
  }
  if (total === 0) {
    throw new ApiError(400, "bad_request", "Cannot score: the request body is empty");
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A promise that rejects when the read must stop (timeout or signal); `clear` disarms it. */
function stopper(options: ReadOptions): { promise: Promise<never>; clear(): void } {
  const { promise, reject } = Promise.withResolvers<never>();
  promise.catch(() => {});
  const { timeoutMs, signal } = options;
  const timer = timeoutMs === undefined ? undefined : setTimeout(() =>
    reject(
      new ApiError(
        408,
        "timeout",
        `Cannot read request body: it did not arrive within ${timeoutMs / 1000} s`,
      ),
    ), timeoutMs);
  const onAbort = () => reject(signal!.reason);
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  return {
    promise,
    clear() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    },
  };
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(contentType: string | null): string {
  return (contentType ?? "").split(";")[0].trim().toLowerCase();
}

/**
 * Splits a body into image parts according to its Content-Type. Multipart and JSON bodies are
 * read in one pass that refuses the first image past `maxImages` (see multipart.ts and
 * json_images.ts), so a body of millions of tiny entries costs no more than its first few.
 * @throws {ApiError} 415 unsupported type, 400 malformed multipart/JSON, 413 too many images.
 */
export function parseImages(
  contentType: string | null,
  bytes: Uint8Array,
  options: { maxImages: number; name?: string },
): ParsedBody {
  const type = mediaType(contentType);
  // A missing or generic type is treated as one raw image: the header sniff decides its format.
  if (IMAGE_TYPES.includes(type) || type === "" || type === "application/octet-stream") {
    return { parts: [{ name: options.name ?? "image", bytes }], single: true };
  }
  if (type === "multipart/form-data") {
    const parts = readMultipart(contentType!, bytes, options.maxImages);
    if (parts.length === 0) {
      throw new ApiError(400, "bad_request", "Cannot score multipart body: it has no file parts");
    }
    return { parts, single: false };
  }
  if (type === "application/json") {
    return { parts: jsonParts(bytes, options.maxImages), single: false };
  }
  throw new ApiError(
    415,
    "unsupported_media_type",
    `Cannot score a body of type "${type}": send image/png, image/jpeg, image/gif, image/tiff, multipart/form-data or application/json`,
  );
}

function jsonParts(bytes: Uint8Array, maxImages: number): ImagePart[] {
  const doc = readJsonImages(bytes, maxImages);
  const bad = (what: string) => new ApiError(400, "bad_request", `Cannot score JSON body: ${what}`);
  const { images, names } = doc;
  if (!images || images.length === 0 || doc.notArray === "images") {
    throw bad('"images" must be a non-empty array of base64 strings');
  }
  if (names !== undefined || doc.notArray === "names") {
    if (!names || names.length !== images.length) {
      throw bad('"names" must be an array as long as "images"');
    }
    if (names.some((n) => n === undefined)) throw bad('"names" must contain strings');
  }
  return images.map((img, i): ImagePart => {
    const name = names?.[i] ?? `images[${i}]`;
    if (img === undefined) {
      return {
        name,
        error: new ApiError(
          400,
          "bad_request",
          `Cannot decode image "${name}": not a base64 string`,
        ),
      };
    }
    const bytes = fromBase64(img);
    if (!bytes) {
      return {
        name,
        error: new ApiError(400, "bad_request", `Cannot decode image "${name}": invalid base64`),
      };
    }
    return { name, bytes };
  });
}
/** Decodes base64 (optionally a `data:…;base64,` URL); undefined when invalid. */
export function fromBase64(text: string): Uint8Array | undefined {
  const b64 = text.startsWith("data:") ? text.slice(text.indexOf(",") + 1) : text;
  try {
    const bin = atob(b64.replace(/\s+/g, ""));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}
