/**
 * What a request holds on the batcher: its reserved queue slots, into which it submits its
 * images one by one, and the abort signal that drops them.
 * @module
 */
import type { LoadedModel } from "../models/types.ts";
import type { ImageScore, ScoreSettings } from "../contract/scoring.ts";

/** Per-request admission options. */
export interface AdmitOptions {
  /** Aborting it drops the request's queued images (they reject with `signal.reason`). */
  readonly signal?: AbortSignal;
  /** The request's own wait limit in seconds (its deadline); the tighter of it and the batcher's applies. */
  readonly waitLimitSeconds?: number;
}

/** Queue slots reserved for one request; images are submitted into them one by one. */
export interface Admission {
  /** Queues one pre-processed input [C, H, W]; resolves with its score. */
  submit(input: Float32Array): Promise<ImageScore>;
  /** Frees the slots not used by `submit` (call when done submitting). */
  release(): void;
}

/** The error an image's promise rejects with when its request went away before scoring. */
export function cancelledError(): DOMException {
  return new DOMException("The client disconnected before the image was scored", "AbortError");
}

/** @internal The batcher side of an admission. */
export interface AdmissionHost {
  enqueue(owner: AdmissionImpl, input: Float32Array): Promise<ImageScore>;
  free(key: string, n: number): void;
}

/** @internal One request's reserved slots (see `Admission`). */
export class AdmissionImpl implements Admission {
  unused: number;
  constructor(
    readonly batcher: AdmissionHost,
    readonly key: string,
    readonly model: LoadedModel,
    readonly settings: ScoreSettings,
    count: number,
    readonly signal: AbortSignal | undefined,
    /** Admission order: a batch takes the images of earlier requests first. */
    readonly seq = 0,
  ) {
    this.unused = count;
  }
  submit(input: Float32Array): Promise<ImageScore> {
    if (this.signal?.aborted) return Promise.reject(this.signal.reason ?? cancelledError());
    if (this.unused <= 0) throw new RangeError("Admission has no unused slots left");
    this.unused--;
    return this.batcher.enqueue(this, input);
  }
  release(): void {
    this.batcher.free(this.key, this.unused);
    this.unused = 0;
  }
}
