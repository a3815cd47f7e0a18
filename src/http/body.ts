/**
 * Request bodies: reading with a byte limit, and splitting into image parts
 * (raw image, multipart/form-data, or JSON with base64 images).
 * @module
 */
import { ApiError } from "../errors.ts";

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

/**
 * Reads the whole body, failing with 413 as soon as it passes `limit` bytes (Content-Length is
 * checked first as a shortcut, but never trusted alone) and with 400 when it is empty.
 */
export async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (req.body) {
    const reader = req.body.getReader();
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge(limit);
      }
      chunks.push(value);
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

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(contentType: string | null): string {
  return (contentType ?? "").split(";")[0].trim().toLowerCase();
}

/**
 * Splits a body into image parts according to its Content-Type.
 * @throws {ApiError} 415 unsupported type, 400 malformed multipart/JSON, 413 too many images.
 */
export async function parseImages(
  contentType: string | null,
  bytes: Uint8Array,
  options: { maxImages: number; name?: string },
): Promise<ParsedBody> {
  const type = mediaType(contentType);
  let body: ParsedBody;
  // A missing or generic type is treated as one raw image: the header sniff decides its format.
  if (IMAGE_TYPES.includes(type) || type === "" || type === "application/octet-stream") {
    body = { parts: [{ name: options.name ?? "image", bytes }], single: true };
  } else if (type === "multipart/form-data") {
    body = { parts: await parseMultipart(contentType!, bytes), single: false };
  } else if (type === "application/json") {
    body = { parts: parseJson(bytes), single: false };
  } else {
    throw new ApiError(
      415,
      "unsupported_media_type",
      `Cannot score a body of type "${type}": send image/png, image/jpeg, image/gif, image/tiff, multipart/form-data or application/json`,
    );
  }
  if (body.parts.length > options.maxImages) {
    throw new ApiError(
      413,
      "payload_too_large",
      `Cannot score ${body.parts.length} images in one request: the limit is ${options.maxImages}`,
    );
  }
  return body;
}

async function parseMultipart(contentType: string, bytes: Uint8Array): Promise<ImagePart[]> {
  let form: FormData;
  try {
    form = await new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { "content-type": contentType },
    }).formData();
  } catch (e) {
    throw new ApiError(
      400,
      "bad_request",
      `Cannot parse multipart body: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const parts: ImagePart[] = [];
  for (const [field, value] of form.entries()) {
    // Text fields (e.g. form options) are not images; only file parts are scored.
    if (typeof value === "string") continue;
    parts.push({ name: value.name || field, bytes: new Uint8Array(await value.arrayBuffer()) });
  }
  if (parts.length === 0) {
    throw new ApiError(400, "bad_request", "Cannot score multipart body: it has no file parts");
  }
  return parts;
}

function parseJson(bytes: Uint8Array): ImagePart[] {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new ApiError(
      400,
      "bad_request",
      `Cannot parse JSON body: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const bad = (what: string) => new ApiError(400, "bad_request", `Cannot score JSON body: ${what}`);
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw bad('expected an object {"images": [...]}');
  }
  const { images, names } = doc as { images?: unknown; names?: unknown };
  if (!Array.isArray(images) || images.length === 0) {
    throw bad('"images" must be a non-empty array of base64 strings');
  }
  if (names !== undefined) {
    if (!Array.isArray(names) || names.length !== images.length) {
      throw bad('"names" must be an array as long as "images"');
    }
    if (names.some((n) => typeof n !== "string")) throw bad('"names" must contain strings');
  }
  return images.map((img, i): ImagePart => {
    const name = (names as string[] | undefined)?.[i] ?? `images[${i}]`;
    if (typeof img !== "string") {
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
