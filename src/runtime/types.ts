/**
 * The runtime interface: the only contract the rest of the project has with onnxruntime.
 * Implementations live in `src/runtime/` and nowhere else imports onnxruntime.
 * @module
 */

/** Which onnxruntime build executes a graph. */
export type BackendName = "wasm" | "webgpu" | "native";

/** Every backend, in the order the automatic choice considers them. */
export const BACKENDS: readonly BackendName[] = ["native", "wasm", "webgpu"];

/** A backend as configured by a user: a name, or "auto" (native if it loads, else wasm). */
export type BackendChoice = BackendName | "auto";

/** Element types the project exchanges with graphs. */
export type DType = "float32" | "int64" | "int32" | "bool" | "uint8";

/** A host-side tensor: plain typed data plus its shape. */
export interface HostTensor {
  readonly type: DType;
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}

/**
 * A tensor left in the backend's memory between runs: a GPU buffer on webgpu, a host array
 * elsewhere. Feed it to another run of any session of the same runtime without a copy; call
 * `read()` for the values or `dispose()` when done (GPU memory is not garbage-collected).
 */
export interface DeviceTensor {
  readonly kind: "device";
  readonly backend: BackendName;
  readonly type: DType;
  readonly dims: readonly number[];
  /** Where the data lives: "gpu-buffer" on webgpu, "cpu" on the CPU backends. */
  readonly location: "cpu" | "gpu-buffer";
  /** Copies the values to the host; the tensor stays usable. */
  read(): Promise<HostTensor>;
  /** Frees the tensor's device memory; it must not be used afterwards. Idempotent. */
  dispose(): void;
}

/** Anything a run accepts as a feed. */
export type RunValue = HostTensor | DeviceTensor;

/** Whether a run value is a {@link DeviceTensor}. */
export function isDeviceTensor(v: RunValue): v is DeviceTensor {
  return (v as DeviceTensor).kind === "device";
}

/** A compiled graph ready to run. */
export interface GraphSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph; returns the requested outputs (all outputs when `outputs` is omitted). */
  run(
    feeds: Record<string, RunValue>,
    outputs?: readonly string[],
  ): Promise<Record<string, HostTensor>>;
  /** Frees the session's native/GPU memory. */
  release(): Promise<void>;
}

/**
 * A session that can also keep outputs in device memory. Every session made by `getRuntime()`
 * is one.
 */
export interface DeviceSession extends GraphSession {
  /**
   * Like `run`, but the outputs named in {@link SessionOptions.deviceOutputs} come back as
   * {@link DeviceTensor}s (left on the GPU on webgpu) instead of being read back; the caller
   * disposes them. Other outputs come back as host tensors.
   */
  runOnDevice(
    feeds: Record<string, RunValue>,
    outputs?: readonly string[],
  ): Promise<Record<string, RunValue>>;
}

/** Options for creating a session. */
export interface SessionOptions {
  /** Log node placements and kernel decisions (onnxruntime verbose logging, to stderr). */
  readonly verbose?: boolean;
  /**
   * Outputs that feed a later run and should stay in device memory (see
   * {@link DeviceSession.runOnDevice}). On webgpu this sets onnxruntime's
   * `preferredOutputLocation: "gpu-buffer"` for them; on CPU backends it changes nothing.
   */
  readonly deviceOutputs?: readonly string[];
  /**
   * onnxruntime's memory pattern (default false here, true in onnxruntime). It pre-plans one
   * block per input shape, allocated on the second run next to the arena chunks of the first, so
   * it doubles the peak memory of large graphs: the S&I graph of the fixture model at batch 8
   * peaked at 1.09 GB with it off and 2.02 GB with it on (native). Turning it on saves a few
   * percent of a forward pass.
   */
  readonly memoryPattern?: boolean;
}

/** A backend that turns serialized ONNX models into sessions. */
export interface Runtime {
  readonly backend: BackendName;
  /** Human-readable facts about the backend (threads, adapter, versions). */
  readonly info: Readonly<Record<string, string | number | boolean>>;
  createSession(model: Uint8Array, options?: SessionOptions): Promise<GraphSession>;
}

/** The runtimes `getRuntime()` returns: their sessions can keep outputs in device memory. */
export interface DeviceRuntime extends Runtime {
  createSession(model: Uint8Array, options?: SessionOptions): Promise<DeviceSession>;
}

/** Convenience constructor for a float32 host tensor. */
export function f32(data: Float32Array, dims: readonly number[]): HostTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  if (n !== data.length) {
    throw new RangeError(`Tensor data has ${data.length} elements but shape [${dims}] needs ${n}`);
  }
  return { type: "float32", dims, data };
}
