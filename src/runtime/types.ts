/**
 * The runtime interface: the only contract the rest of the project has with onnxruntime.
 * Implementations live in `src/runtime/` and nowhere else imports onnxruntime.
 * @module
 */
import type { BackendName } from "../contract/backends.ts";
import type { DType } from "../onnx/shapes.ts";

/** A host-side tensor: plain typed data plus its shape. */
export interface HostTensor {
  readonly type: DType;
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}

/** A compiled graph ready to run. */
export interface GraphSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph; returns the requested outputs (all outputs when `outputs` is omitted). */
  run(
    feeds: Record<string, HostTensor>,
    outputs?: readonly string[],
  ): Promise<Record<string, HostTensor>>;
  /** Frees the session's native/GPU memory. */
  release(): Promise<void>;
}

/** Which graph optimisation a session runs with: the product's, or none at all. */
export type OptimizationChoice = "product" | "disabled";

/** Options for creating a session. */
export interface SessionOptions {
  /** Log node placements and kernel decisions (onnxruntime verbose logging, to stderr). */
  readonly verbose?: boolean;
  /**
   * onnxruntime's memory pattern (default false here, true in onnxruntime). It pre-plans one
   * block per input shape, allocated on the second run next to the arena chunks of the first, so
   * it doubles the peak memory of large graphs: the S&I graph of the fixture model at batch 8
   * peaked at 1.09 GB with it off and 2.02 GB with it on (native). Turning it on saves a few
   * percent of a forward pass.
   */
  readonly memoryPattern?: boolean;
  /**
   * A session run only a few times, such as the shape probe: no graph optimisation (whose
   * optimised copies of the weights repay themselves only over many runs) and no memory arena
   * (which keeps every block it ever allocated). Both cut the probe's peak for large models.
   */
  readonly oneOff?: boolean;
  /**
   * "product" (default): onnxruntime's level "all" minus the transformers that change results
   * (src/runtime/optimization.ts). "disabled": no graph optimisation, the reference the optimizer
   * guard test compares against. `oneOff` implies "disabled".
   */
  readonly optimization?: OptimizationChoice;
  /**
   * Where onnxruntime writes the optimised graph it builds (`optimizedModelFilePath`), its
   * weights in `<path>.data` next to it: the optimised-model cache (optimized_cache.ts).
   */
  readonly optimizedModelPath?: string;
  /**
   * onnxruntime's pre-packing of weights at session creation (default true). Off for sessions
   * from an optimised file: see optimized_cache.ts for what it costs and saves.
   */
  readonly prepacking?: boolean;
}

/** A backend that turns serialized ONNX models into sessions. */
export interface Runtime {
  readonly backend: BackendName;
  /** Human-readable facts about the backend (threads, adapter, versions). */
  readonly info: Readonly<Record<string, string | number | boolean>>;
  /**
   * Creates a session from serialized ONNX bytes, or from the path of an ONNX file (whose
   * external data, if any, lies next to it: see src/onnx/external_data.ts).
   */
  createSession(model: Uint8Array | string, options?: SessionOptions): Promise<GraphSession>;
}

/** Convenience constructor for a float32 host tensor. */
export function f32(data: Float32Array, dims: readonly number[]): HostTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  if (n !== data.length) {
    throw new RangeError(`Tensor data has ${data.length} elements but shape [${dims}] needs ${n}`);
  }
  return { type: "float32", dims, data };
}
