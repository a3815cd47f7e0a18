/**
 * Worker entry of the decode pool (`decode_pool.ts`): decodes one image per message with
 * `decodeImage`, pre-processes it when the request carries a job, and posts the result back
 * (transferred), or the error with its HTTP status.
 * @module
 */
/// <reference lib="deno.worker" />
import { ApiError } from "../errors.ts";
import { decodeImage } from "./decode.ts";
import type { DecodeReply, DecodeRequest } from "./decode_pool.ts";
import { createPreprocessor, type PreprocessJob, type Preprocessor } from "./preprocess.ts";

/** Pre-processors by job, built once per worker (a service has a handful of models). */
const preprocessors = new Map<string, Preprocessor>();

function preprocessorFor(job: PreprocessJob): Preprocessor {
  const key = JSON.stringify(job);
  let pre = preprocessors.get(key);
  if (!pre) preprocessors.set(key, pre = createPreprocessor(job.preprocess, job.input));
  return pre;
}

/** Copies only when the array is a view of a larger buffer (otherwise the buffer is transferred). */
function own<T extends Uint8Array | Float32Array>(a: T): T {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice() as T;
}

self.onmessage = async (ev: MessageEvent<DecodeRequest>) => {
  const { id, bytes, name, maxPixels, job } = ev.data;
  let reply: DecodeReply;
  try {
    const image = await decodeImage(bytes, name, { maxPixels });
    if (job) {
      const input = own(preprocessorFor(job)(image));
      reply = { id, input };
      self.postMessage(reply, [input.buffer]);
    } else {
      const data = own(image.data);
      reply = { id, image: { width: image.width, height: image.height, data } };
      self.postMessage(reply, [data.buffer]);
    }
    return;
  } catch (e) {
    reply = e instanceof ApiError
      ? { id, error: { status: e.status, code: e.code, message: e.message, headers: e.headers } }
      : { id, error: { message: e instanceof Error ? e.message : String(e) } };
  }
  self.postMessage(reply);
};
