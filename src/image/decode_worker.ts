/**
 * Worker entry of the decode pool (`decode_pool.ts`): decodes one image per message with
 * `decodeImage` and posts the pixels back (transferred), or the error with its HTTP status.
 * @module
 */
/// <reference lib="deno.worker" />
import { ApiError } from "../errors.ts";
import { decodeImage } from "./decode.ts";
import type { DecodeReply, DecodeRequest } from "./decode_pool.ts";

self.onmessage = async (ev: MessageEvent<DecodeRequest>) => {
  const { id, bytes, name, maxPixels } = ev.data;
  let reply: DecodeReply;
  try {
    const image = await decodeImage(bytes, name, { maxPixels });
    // Copy out only when the pixels are a view of a larger buffer (nothing else to transfer).
    const data =
      image.data.byteOffset === 0 && image.data.byteLength === image.data.buffer.byteLength
        ? image.data
        : image.data.slice();
    reply = { id, image: { width: image.width, height: image.height, data } };
    self.postMessage(reply, [data.buffer]);
    return;
  } catch (e) {
    reply = e instanceof ApiError
      ? { id, error: { status: e.status, code: e.code, message: e.message, headers: e.headers } }
      : { id, error: { message: e instanceof Error ? e.message : String(e) } };
  }
  self.postMessage(reply);
};
