/**
 * The model the compiler reads, held in memory only while it is needed.
 *
 * The serialized model (100 MB for ResNet-50, 178 MB for BiT-R101) was kept in JavaScript for the
 * engine's whole life, although it is read only to emit a new scoring graph: sessions come from
 * compiled files, splits and memory plans need tensor dims alone. When the model has a file the
 * bytes can be read back from (the model directory's file, or the folded model's cache entry),
 * {@link ModelSource.release} drops them, and the engine keeps a skeleton — the model without
 * its large initializers' data ({@link skeletonModel}) — for its own questions.
 * @module
 */
import { type ModelProto, onnx, readModel, writeModel } from "../onnx/proto.ts";

/** Initializers of at least this many bytes lose their data in the skeleton. */
const LARGE_BYTES = 64 * 2 ** 10;

/** The model's bytes and parsed form, from memory or re-read from its file. */
export class ModelSource {
  #bytes: Uint8Array | undefined;
  #parsed: ModelProto | undefined;
  readonly #file: string | undefined;
  readonly #name: string;

  /**
   * `bytes` may be omitted when `file` holds them; `parsed` is the model already parsed from
   * them, if the caller has it.
   */
  constructor(
    bytes: Uint8Array | undefined,
    file: string | undefined,
    name: string,
    parsed?: ModelProto,
  ) {
    if (!bytes && !file) throw new TypeError(`Model "${name}" has neither bytes nor a file`);
    this.#bytes = bytes;
    this.#file = file;
    this.#name = name;
    this.#parsed = parsed;
  }

  /** Whether the bytes are held in memory. */
  get held(): boolean {
    return this.#bytes !== undefined;
  }

  /** The serialized model (read back from its file when released). */
  bytes(): Uint8Array {
    return this.#bytes ?? Deno.readFileSync(this.#file!);
  }

  /** The parsed model (parsed anew from the file when released). */
  parsed(): ModelProto {
    if (this.#parsed) return this.#parsed;
    const model = readModel(this.bytes(), this.#name);
    if (this.#bytes) this.#parsed = model;
    return model;
  }

  /** Drops the held bytes when a file can give them back; returns whether it did. */
  release(): boolean {
    if (!this.#file) return false;
    this.#bytes = undefined;
    this.#parsed = undefined;
    return true;
  }
}

/**
 * The model without the data of its large initializers (their dims and types stay): enough for
 * split choice and memory plans, which read dims, names and small constants only. It is
 * re-serialized, so it shares no buffer with the full model's bytes.
 */
export function skeletonModel(model: ModelProto): ModelProto {
  const initializer = (model.graph!.initializer ?? []).map((t) =>
    (t.rawData?.length ?? 0) >= LARGE_BYTES
      ? onnx.TensorProto.create({ ...t, rawData: new Uint8Array(0) })
      : t
  );
  const stripped = onnx.ModelProto.create({
    ...model,
    graph: onnx.GraphProto.create({ ...model.graph, initializer }),
  });
  return readModel(writeModel(stripped), "skeleton");
}

/**
 * Returns the memory of model bytes the engine owns and will read back from their file: detaching the
 * buffer (`ArrayBuffer.prototype.transfer`) frees it at once, where dropping the reference would
 * leave 100–180 MB resident until a garbage collection, often past the first run's peak.
 */
export function freeBytes(bytes: Uint8Array): void {
  const buffer = bytes.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
  const whole = bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength;
  if (whole && buffer instanceof ArrayBuffer) buffer.transfer?.(0);
}
