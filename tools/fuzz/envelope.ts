/**
 * Request envelopes for the fuzzer: most inputs go as a raw image body; some are wrapped in a JSON
 * (`{"images": [base64]}`) or multipart body, half of those with the envelope itself mutated, so
 * the one-pass body readers (src/http/json_images.ts, multipart.ts) meet broken framing too.
 * @module
 */
import { concat, mutateBlind, type Rng } from "./mutate.ts";

/** A request body and its Content-Type. */
export interface Envelope {
  readonly body: Uint8Array;
  readonly type: string;
  /** How it was built, for reports ("" for a raw body). */
  readonly how: string;
}

const enc = new TextEncoder();

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Wraps `image` raw (3 in 4), in JSON or in multipart; half of the wrapped ones are mutated. */
export function envelope(image: Uint8Array, name: string, rng: Rng): Envelope {
  const kind = rng.int(8);
  if (kind < 6) return { body: image, type: "application/octet-stream", how: "" };
  let env: Envelope;
  if (kind === 6) {
    const doc = `{"images": ["${
      base64(image)
    }", "aGk="], "names": ["${name}", "b"], "x": [1, {"y": null}]}`;
    env = { body: enc.encode(doc), type: "application/json", how: "json" };
  } else {
    const part = (file: string) =>
      enc.encode(
        `--fz\r\nContent-Disposition: form-data; name="image"; filename="${file}"\r\n` +
          `Content-Type: application/octet-stream\r\n\r\n`,
      );
    const body = concat(
      enc.encode('--fz\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n'),
      part(name),
      image,
      enc.encode("\r\n"),
      part("b.png"),
      enc.encode("x\r\n--fz--\r\n"),
    );
    env = { body, type: "multipart/form-data; boundary=fz", how: "multipart" };
  }
  if (rng.int(2) === 0) return env;
  const m = mutateBlind(env.body, rng);
  return { ...env, body: m.bytes, how: `${env.how}(${m.how})` };
}
