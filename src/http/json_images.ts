/**
 * A single-pass reader of the JSON score body `{"images": [...], "names": [...]}` that never
 * builds the whole document: it counts `images` entries as it meets them and refuses the first
 * one past the limit (a 30 MB body of ten million `""` entries used to be `JSON.parse`d into ten
 * million values, stalling the HTTP thread for 22 s). Other keys are validated and skipped.
 * Strings are sliced out of the body one by one, so memory stays bounded by the body.
 * @module
 */
import { ApiError } from "../errors.ts";

/** Deepest nesting accepted in keys other than `images`/`names` (the parser recurses). */
const MAX_DEPTH = 32;
/**
 * Most values skipped outside `images`/`names` strings: 16 million numbers under another key
 * kept the HTTP thread validating them for 0.7 s (measured), for a key the service ignores.
 */
export const MAX_OTHER_VALUES = 4096;

/** An `images` or `names` entry: the string's text, or undefined when it was not a string. */
export type JsonEntry = string | undefined;

/** What the reader found. */
export interface JsonImages {
  /** Undefined when the key is absent; an array of its entries (strings or undefined) otherwise. */
  readonly images?: JsonEntry[];
  readonly names?: JsonEntry[];
  /** Set when `images`/`names` was present but not an array. */
  readonly notArray?: "images" | "names";
}

/** The 413 for the first entry past the limit. */
export function tooManyImages(max: number): ApiError {
  return new ApiError(
    413,
    "payload_too_large",
    `Cannot score more than ${max} images in one request: the limit is ${max}`,
  );
}

const LITERALS = ["true", "false", "null"].map((w) => [...w].map((c) => c.charCodeAt(0)));

class Reader {
  i = 0;
  /** Values skipped so far (see `MAX_OTHER_VALUES`). */
  skipped = 0;
  constructor(readonly b: Uint8Array) {}

  fail(what: string): never {
    throw new ApiError(400, "bad_request", `Cannot parse JSON body: ${what} at byte ${this.i}`);
  }

  ws(): void {
    const b = this.b;
    while (this.i < b.length) {
      const c = b[this.i];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.i++;
    }
  }

  /** The next non-space byte, not consumed (-1 at the end). */
  peek(): number {
    this.ws();
    return this.i < this.b.length ? this.b[this.i] : -1;
  }

  expect(c: number, what: string): void {
    if (this.peek() !== c) this.fail(`expected ${what}`);
    this.i++;
  }

  /** Reads a string (the cursor on its opening quote) and returns its text (or "" if `skip`). */
  string(skip = false): string {
    const b = this.b;
    const start = this.i++;
    let escaped = false;
    while (this.i < b.length) {
      const c = b[this.i];
      if (c === 0x22) {
        this.i++;
        const raw = b.subarray(start, this.i);
        if (skip) return "";
        if (!escaped) return new TextDecoder().decode(raw.subarray(1, raw.length - 1));
        try {
          return JSON.parse(new TextDecoder().decode(raw));
        } catch {
          this.fail("invalid string escape");
        }
      }
      if (c === 0x5c) {
        escaped = true;
        this.i++;
      } else if (c < 0x20) this.fail("control character in string");
      this.i++;
    }
    return this.fail("unterminated string");
  }

  /** Validates and skips one value of any kind. */
  skip(depth: number): void {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    if (++this.skipped > MAX_OTHER_VALUES) {
      this.fail(`more than ${MAX_OTHER_VALUES} values outside "images" and "names"`);
    }
    const c = this.peek();
    if (c === 0x22) return void this.string(true);
    if (c === 0x7b) return this.container(0x7d, depth, true);
    if (c === 0x5b) return this.container(0x5d, depth, false);
    this.scalar();
  }

  container(close: number, depth: number, keyed: boolean): void {
    this.i++;
    if (this.peek() === close) return void this.i++;
    while (true) {
      if (keyed) {
        if (this.peek() !== 0x22) this.fail("expected a string key");
        this.string(true);
        this.expect(0x3a, '":"');
      }
      this.skip(depth + 1);
      const c = this.peek();
      this.i++;
      if (c === close) return;
      if (c !== 0x2c) this.fail('expected "," or the end of a container');
    }
  }

  /** A number, true, false or null, checked byte by byte (no allocation per value). */
  scalar(): void {
    const b = this.b;
    for (const word of LITERALS) {
      if (word.every((c, k) => b[this.i + k] === c)) {
        this.i += word.length;
        return;
      }
    }
    const start = this.i;
    const digits = () => {
      const from = this.i;
      while (this.i < b.length && b[this.i] >= 0x30 && b[this.i] <= 0x39) this.i++;
      return this.i - from;
    };
    if (b[this.i] === 0x2d) this.i++;
    const int = this.i;
    if (digits() === 0 || (b[int] === 0x30 && this.i - int > 1)) this.fail("expected a value");
    if (b[this.i] === 0x2e) {
      this.i++;
      if (digits() === 0) this.fail("invalid number");
    }
    if (b[this.i] === 0x65 || b[this.i] === 0x45) {
      this.i++;
      if (b[this.i] === 0x2b || b[this.i] === 0x2d) this.i++;
      if (digits() === 0) this.fail("invalid number");
    }
    if (this.i === start) this.fail("expected a value");
  }

  /** An array of entries, refusing the entry past `max`. */
  entries(max: number, onTooMany: () => never): JsonEntry[] {
    const out: JsonEntry[] = [];
    this.i++;
    if (this.peek() === 0x5d) {
      this.i++;
      return out;
    }
    while (true) {
      if (out.length === max) onTooMany();
      if (this.peek() === 0x22) out.push(this.string());
      else {
        this.skip(1);
        out.push(undefined);
      }
      const c = this.peek();
      this.i++;
      if (c === 0x5d) return out;
      if (c !== 0x2c) this.fail('expected "," or "]"');
    }
  }
}

/**
 * Reads `images` and `names` of a JSON body, refusing the `maxImages + 1`-th entry of either.
 * @throws {ApiError} 400 malformed JSON or not an object; 413 too many entries.
 */
export function readJsonImages(bytes: Uint8Array, maxImages: number): JsonImages {
  const r = new Reader(bytes);
  if (r.peek() !== 0x7b) {
    if (r.peek() === -1) r.fail("unexpected end of input");
    r.skip(0);
    if (r.peek() !== -1) r.fail("unexpected data after the value");
    throw new ApiError(
      400,
      "bad_request",
      'Cannot score JSON body: expected an object {"images": [...]}',
    );
  }
  const found: { images?: JsonEntry[]; names?: JsonEntry[]; notArray?: "images" | "names" } = {};
  const tooMany = () => {
    throw tooManyImages(maxImages);
  };
  r.i++;
  let first = true;
  while (true) {
    const c = r.peek();
    if (c === 0x7d && first) break;
    if (c !== 0x22) r.fail("expected a string key");
    const key = r.string();
    r.expect(0x3a, '":"');
    if ((key === "images" || key === "names") && r.peek() === 0x5b) {
      found[key] = r.entries(maxImages, tooMany);
    } else {
      if (key === "images" || key === "names") found.notArray = key;
      r.skip(1);
    }
    first = false;
    const next = r.peek();
    if (next === 0x7d) break;
    if (next !== 0x2c) r.fail('expected "," or "}"');
    r.i++;
  }
  r.i++;
  if (r.peek() !== -1) r.fail("unexpected data after the object");
  return found;
}
