/**
 * Loading and configuring the three onnxruntime builds. Only `src/runtime/` imports onnxruntime.
 *
 * - `native`: onnxruntime-node (N-API binary; needs `--allow-ffi`), CPU execution provider,
 *   intra-op threads = cores.
 * - `wasm`: onnxruntime-web. Under Deno the package's `node` export condition applies, so this is
 *   `ort.node.min.mjs`: Emscripten in Node mode, SIMD always on (every 1.30 binary is a SIMD
 *   build). Loads its `.wasm` from node_modules: offline. It runs on ONE thread unless
 *   `WASM_THREADS` says otherwise: the threaded build (pthreads on `worker_threads`) hangs under
 *   Deno on some runs, in a Worker and on the main thread alike (see `wasmThreads`).
 * - `webgpu`: `onnxruntime-web/webgpu` (the browser bundle) on `navigator.gpu` (stable in Deno 2,
 *   no flag). Its loader would turn the side module into a `blob:` URL, which Deno's npm loader
 *   refuses, unless `env.wasm.wasmPaths` points at the package's own `dist/` as a `file:` URL —
 *   which also keeps it offline. The same loader insists on a `blob:` URL whenever
 *   `numThreads > 1` (it cannot tell that a `file:` URL is "same origin" without
 *   `location`), so webgpu runs its CPU-side kernels on one thread.
 * @module
 */
import type { BackendName } from "../contract/backends.ts";
import { BackendUnavailableError } from "./errors.ts";

/**
 * The onnxruntime API as its packages type it. onnxruntime-node and both onnxruntime-web builds
 * re-export the same `onnxruntime-common` surface (InferenceSession, Tensor, env).
 */
export type OrtModule = typeof import("onnxruntime-web");
/** An onnxruntime inference session. */
export type OrtSession = import("onnxruntime-web").InferenceSession;
/** An onnxruntime tensor. */
export type OrtTensor = import("onnxruntime-web").Tensor;

/** A loaded onnxruntime build with the session options the backend always uses. */
export interface LoadedBackend {
  readonly backend: BackendName;
  readonly ort: OrtModule;
  readonly executionProviders: readonly string[];
  /** Options merged into every `InferenceSession.create`. */
  readonly sessionOptions: Readonly<import("onnxruntime-web").InferenceSession.SessionOptions>;
  readonly info: Readonly<Record<string, string | number | boolean>>;
  /** Whether the build's log lines can be captured in-process (see bench/lib/log_capture.ts). */
  readonly capturableLog: boolean;
}

/** Logical cores available to this process. */
export function coreCount(): number {
  return Math.max(1, navigator.hardwareConcurrency ?? 1);
}

/** Imports and configures one backend; throws {@link BackendUnavailableError} when it cannot. */
export function loadBackend(backend: BackendName): Promise<LoadedBackend> {
  switch (backend) {
    case "native":
      return loadNative();
    case "wasm":
      return loadWasm();
    case "webgpu":
      return loadWebGpu();
    default:
      return Promise.reject(new Error(`Unknown backend "${backend}"`));
  }
}

async function loadNative(): Promise<LoadedBackend> {
  let ort: OrtModule;
  try {
    ort = await import("onnxruntime-node");
  } catch (e) {
    throw new BackendUnavailableError(
      "native",
      `onnxruntime-node did not load: ${firstLine(e)}`,
      "it needs --allow-ffi and a prebuilt binary for this OS/CPU; use the wasm backend instead",
      { cause: e },
    );
  }
  const threads = coreCount();
  return {
    backend: "native",
    ort,
    executionProviders: ["cpu"],
    sessionOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 },
    info: { threads, version: ort.env?.versions?.node ?? "", executionProvider: "cpu" },
    capturableLog: false,
  };
}

async function loadWasm(): Promise<LoadedBackend> {
  let ort: OrtModule;
  try {
    ort = await import("onnxruntime-web");
  } catch (e) {
    throw new BackendUnavailableError("wasm", `onnxruntime-web did not load: ${firstLine(e)}`, "", {
      cause: e,
    });
  }
  const threads = wasmThreads();
  ort.env.wasm.numThreads = threads;
  return {
    backend: "wasm",
    ort,
    executionProviders: ["wasm"],
    sessionOptions: {},
    info: { threads, simd: true, version: ort.env?.versions?.web ?? "", executionProvider: "wasm" },
    capturableLog: true,
  };
}

/**
 * Threads of the wasm backend: 1 unless `WASM_THREADS` says otherwise. onnxruntime-web 1.30's
 * threaded build hangs under Deno on some runs, spinning one core at 100 %: inside a Worker for
 * the bundled model's shape probe, and on the main thread too (`deno task score --backend wasm`
 * on the bundled model with the probe fetching 16 outputs per run spun for 5 minutes; with 1
 * thread it took 7 s). Which runs hang depends on the order of run sizes, so no ordering of ours
 * can rule it out; one thread never hung.
 */
export function wasmThreads(): number {
  let raw: string | undefined;
  try {
    raw = Deno.env.get("WASM_THREADS");
  } catch {
    raw = undefined; // no --allow-env: the default applies
  }
  const n = Number(raw);
  return raw && Number.isInteger(n) && n >= 1 ? n : 1;
}

/** What Deno's WebGPU adapter exposes that we report. */
interface AdapterLike {
  info?: {
    vendor?: string;
    architecture?: string;
    device?: string;
    description?: string;
    isFallbackAdapter?: boolean;
  };
  isFallbackAdapter?: boolean;
}

/** Requests a WebGPU adapter, or explains why there is none. */
export async function requestAdapter(): Promise<GPUAdapter> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) {
    throw new BackendUnavailableError("webgpu", "navigator.gpu is missing in this runtime");
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (e) {
    throw new BackendUnavailableError("webgpu", `requestAdapter() failed: ${firstLine(e)}`, "", {
      cause: e,
    });
  }
  if (!adapter) {
    throw new BackendUnavailableError(
      "webgpu",
      "no WebGPU adapter found",
      "install a Vulkan driver (e.g. mesa-vulkan-drivers for the llvmpipe software adapter)",
    );
  }
  return adapter;
}

/**
 * Report fields for an adapter, e.g. `{adapter: "llvmpipe (LLVM 15.0.6, 256 bits)",
 * adapterVendor: "65541", fallbackAdapter: true}` (vendor is a PCI or Khronos id).
 */
export function describeAdapter(adapter: AdapterLike): Record<string, string | boolean> {
  const i = adapter.info ?? {};
  const fallback = i.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
  const name = i.description || [i.architecture, i.device].filter(Boolean).join(" ");
  return {
    adapter: name || "unknown adapter",
    adapterVendor: i.vendor ?? "",
    fallbackAdapter: fallback,
  };
}

async function loadWebGpu(): Promise<LoadedBackend> {
  const adapter = await requestAdapter();
  let ort: OrtModule;
  let dist: string;
  try {
    ort = await import("onnxruntime-web/webgpu");
    dist = new URL("./", import.meta.resolve("onnxruntime-web/webgpu")).href;
  } catch (e) {
    throw new BackendUnavailableError(
      "webgpu",
      `onnxruntime-web/webgpu did not load: ${firstLine(e)}`,
      "",
      { cause: e },
    );
  }
  ort.env.wasm.wasmPaths = dist;
  ort.env.wasm.numThreads = 1;
  ort.env.webgpu.adapter = adapter;
  return {
    backend: "webgpu",
    ort,
    executionProviders: ["webgpu"],
    sessionOptions: {},
    info: {
      threads: 1,
      version: ort.env?.versions?.web ?? "",
      executionProvider: "webgpu",
      ...describeAdapter(adapter),
    },
    capturableLog: true,
  };
}

/** The first line of an error's message. */
export function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n")[0].trim();
}
