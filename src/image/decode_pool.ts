/**
 * Off-thread decoding: a pool of Workers running `decodeImage`, so decoding never blocks the HTTP
 * thread (measured before: 16 4096² PNGs in one request stalled /healthz for 7 s), and a
 * `ByteBudget` on estimated decoded bytes that bounds decoder memory across all requests.
 *
 * The header is sniffed on the calling thread first: refusals (415/413/422) cost no worker
 * round-trip, and the sniffed size gives the estimate the budget reserves. Errors from a worker
 * come back as `ApiError`s with their status and code. Idle workers are terminated after
 * `idleMs`, returning their memory; a new one starts on the next decode.
 * @module
 */
import { ApiError, type ErrorCode } from "../errors.ts";
import { ByteBudget } from "./byte_budget.ts";
import { assertDecodable, decodeImage, type DecodeOptions } from "./decode.ts";
import { createPreprocessor, type PreprocessJob } from "./preprocess.ts";
import { sniffImage } from "./sniff.ts";
import type { DecodedImage, ImageInfo } from "./types.ts";
import { startModuleWorker } from "../web_worker.ts";

/** Pool → worker. */
export interface DecodeRequest {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly maxPixels: number;
  /** When set, the worker also pre-processes and returns only the model input. */
  readonly job?: PreprocessJob;
}

/** Worker → pool: the pixels (or the model input), or an error (with HTTP status when it was an ApiError). */
export interface DecodeReply {
  readonly id: number;
  readonly image?: DecodedImage;
  readonly input?: Float32Array;
  readonly error?: {
    readonly message: string;
    readonly status?: number;
    readonly code?: ErrorCode;
    readonly headers?: Record<string, string>;
  };
}

/** Pool settings. */
export interface DecodePoolOptions {
  /** Worker count; 0 decodes on the calling thread (still under the byte budget). */
  readonly workers: number;
  /** Most estimated decoded bytes in flight at once, over all callers. */
  readonly maxInflightBytes: number;
  /** Terminate workers idle this long (default 30 s). */
  readonly idleMs?: number;
  /**
   * Replace a worker once the estimated bytes of the JPEG/GIF decodes it served reach this
   * (default 256 MiB). Why: for those, imagescript instantiates a fresh WebAssembly module per
   * decode, and V8 frees those wasm memories only when it collects them, which it does lazily:
   * decoding eight 4096² PNGs in a row that way on one thread grew RSS by 1.3 GB
   * (docs/reliability.md). Ending the worker frees its whole heap at once. PNG decodes keep one
   * codec instance (`codec_png.ts`) and do not count.
   */
  readonly recycleBytes?: number;
}

/**
 * Bytes a decode is expected to hold at its peak: the encoded input (copied into the worker and
 * into the codec's wasm memory) plus RGBA copies of the image (codec buffer, its copy out of wasm,
 * imagescript's bitmap) — see docs/reliability.md for the measurement behind the factor.
 */
export function estimateDecodeBytes(info: ImageInfo, encodedBytes: number): number {
  const big = info.largest;
  const pixels = Math.max(info.width * info.height, big ? big.width * big.height : 0);
  return 2 * encodedBytes + pixels * 4 * DECODE_COPIES;
}

/** RGBA copies alive at a decode's peak (see `estimateDecodeBytes`). */
export const DECODE_COPIES = 4;

interface Slot {
  worker: Worker;
  /** Estimated bytes of the decodes this worker has run (see `recycleBytes`). */
  served: number;
  /** Handed to a caller (set synchronously, before its job is posted, so no two callers share it). */
  busy: boolean;
  job?: { id: number; done: PromiseWithResolvers<DecodeReply>; name: string };
}

/** A decode pool; `decode` has the `DecodeFn` shape the HTTP app takes. */
export class DecodePool {
  readonly budget: ByteBudget;
  readonly #size: number;
  readonly #idleMs: number;
  readonly #recycleBytes: number;
  readonly #slots: Slot[] = [];
  readonly #queue: PromiseWithResolvers<Slot>[] = [];
  #nextId = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(options: DecodePoolOptions) {
    this.#size = Math.max(0, Math.floor(options.workers));
    this.#idleMs = options.idleMs ?? 30_000;
    this.#recycleBytes = options.recycleBytes ?? 256 * 2 ** 20;
    this.budget = new ByteBudget(options.maxInflightBytes);
  }

  /** Decodes off-thread under the byte budget; rejects with the same ApiErrors as `decodeImage`. */
  decode = async (
    bytes: Uint8Array,
    name: string,
    options: DecodeOptions,
  ): Promise<DecodedImage> => (await this.#submit(bytes, name, options)).image!;

  /**
   * Decodes AND pre-processes off-thread (`createPreprocessor(job)` in the worker), returning only
   * the model input: the full-size pixels never reach the calling thread, whose event loop a
   * 4096² area resize would otherwise block for 0.6–0.9 s (docs/reliability.md).
   */
  prepare = async (
    bytes: Uint8Array,
    name: string,
    options: DecodeOptions,
    job: PreprocessJob,
  ): Promise<Float32Array> => (await this.#submit(bytes, name, options, job)).input!;

  async #submit(
    bytes: Uint8Array,
    name: string,
    options: DecodeOptions,
    job?: PreprocessJob,
  ): Promise<{ image?: DecodedImage; input?: Float32Array }> {
    if (this.#closed) throw new Error("Cannot decode: the decode pool is closed");
    const info = sniffImage(bytes, name);
    assertDecodable(bytes, info, name, options.maxPixels);
    const estimate = estimateDecodeBytes(info, bytes.length);
    const release = await this.budget.acquire(estimate);
    try {
      if (this.#size === 0) {
        const image = await decodeImage(bytes, name, options);
        return job ? { input: createPreprocessor(job.preprocess, job.input)(image) } : { image };
      }
      const slot = await this.#slot();
      // PNG decodes leave no garbage in the worker (kept codec instance, pixels transferred out).
      if (info.format !== "png") slot.served += estimate;
      return await this.#run(slot, { id: this.#nextId++, bytes, name, ...options, job });
    } finally {
      release();
    }
  }

  /** Terminates every worker; pending decodes reject. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    for (const slot of this.#slots.splice(0)) this.#kill(slot, "the decode pool was closed");
    for (const wait of this.#queue.splice(0)) {
      wait.reject(new Error("Cannot decode: the decode pool was closed"));
    }
  }

  #slot(): Promise<Slot> {
    clearTimeout(this.#idleTimer);
    let slot = this.#slots.find((s) => !s.busy);
    if (!slot && this.#slots.length < this.#size) this.#slots.push(slot = this.#spawn());
    if (slot) {
      slot.busy = true;
      return Promise.resolve(slot);
    }
    const wait = Promise.withResolvers<Slot>();
    this.#queue.push(wait);
    return wait.promise;
  }

  #run(slot: Slot, req: DecodeRequest): Promise<DecodeReply> {
    const done = Promise.withResolvers<DecodeReply>();
    slot.job = { id: req.id, done, name: req.name };
    // A private copy is transferred: the caller's bytes may be a view of a whole request body.
    const copy = req.bytes.slice();
    slot.worker.postMessage({ ...req, bytes: copy }, [copy.buffer]);
    return done.promise;
  }

  #spawn(): Slot {
    const worker = startModuleWorker(new URL("./decode_worker.ts", import.meta.url));
    const slot: Slot = { worker, served: 0, busy: false };
    worker.onmessage = (ev: MessageEvent<DecodeReply>) => {
      const job = slot.job;
      if (!job || job.id !== ev.data.id) return;
      slot.job = undefined;
      const { error } = ev.data;
      if (error) job.done.reject(rebuildError(error));
      else job.done.resolve(ev.data);
      this.#handOn(slot.served < this.#recycleBytes ? slot : this.#replace(slot));
    };
    worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      // A crashed worker is replaced; its job fails as an internal error (a bug, not bad input).
      console.error(`Decode worker crashed: ${ev.message}`);
      this.#kill(slot, `the decoder crashed (${ev.message})`);
      this.#handOn(this.#replace(slot));
    };
    return slot;
  }

  /** Ends a worker and puts a fresh one in its place. */
  #replace(slot: Slot): Slot | undefined {
    slot.worker.terminate();
    const i = this.#slots.indexOf(slot);
    if (i < 0 || this.#closed) return undefined;
    const fresh = this.#spawn();
    this.#slots[i] = fresh;
    return fresh;
  }

  #handOn(slot: Slot | undefined): void {
    if (!slot) return;
    const next = this.#queue.shift();
    slot.busy = next !== undefined;
    if (next) return next.resolve(slot);
    if (this.#slots.every((s) => !s.busy)) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = setTimeout(() => this.#retire(), this.#idleMs);
      Deno.unrefTimer(this.#idleTimer);
    }
  }

  #retire(): void {
    for (const slot of this.#slots.filter((s) => !s.busy)) {
      this.#slots.splice(this.#slots.indexOf(slot), 1);
      slot.worker.terminate();
    }
  }

  #kill(slot: Slot, why: string): void {
    slot.worker.terminate();
    slot.job?.done.reject(
      new ApiError(500, "internal", `Cannot decode image "${slot.job.name}": ${why}`),
    );
    slot.job = undefined;
  }
}

function rebuildError(e: NonNullable<DecodeReply["error"]>): Error {
  if (e.status !== undefined && e.code !== undefined) {
    return new ApiError(e.status, e.code, e.message, e.headers ?? {});
  }
  return new Error(e.message);
}

const shared = new Map<string, DecodePool>();

/**
 * The process-wide pool for these settings (created on first use): one pool, and so one byte
 * budget, is shared by every app of the process with the same settings.
 */
export function sharedDecodePool(options: DecodePoolOptions): DecodePool {
  const key = `${options.workers}/${options.maxInflightBytes}/${options.idleMs ?? ""}`;
  let pool = shared.get(key);
  if (!pool) shared.set(key, pool = new DecodePool(options));
  return pool;
}
