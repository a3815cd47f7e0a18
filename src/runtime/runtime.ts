/**
 * The one module that imports onnxruntime. Backends: `wasm` (onnxruntime-web, SIMD + threads),
 * `webgpu` (onnxruntime-web's WebGPU build) and `native` (onnxruntime-node).
 * @module
 */
import type {
  BackendName,
  DType,
  GraphSession,
  HostTensor,
  Runtime,
  SessionOptions,
} from "./types.ts";

// deno-lint-ignore no-explicit-any
type Ort = any;

const cache = new Map<BackendName, Promise<Runtime>>();

/** Returns the (process-wide, cached) runtime for a backend. */
export function getRuntime(backend: BackendName): Promise<Runtime> {
  let r = cache.get(backend);
  if (!r) {
    r = loadRuntime(backend);
    cache.set(backend, r);
    r.catch(() => cache.delete(backend));
  }
  return r;
}

async function loadRuntime(backend: BackendName): Promise<Runtime> {
  const threads = Math.max(1, navigator.hardwareConcurrency ?? 1);
  if (backend === "native") {
    const ort: Ort = await import("onnxruntime-node");
    return makeRuntime(ort, backend, ["cpu"], { threads, version: ort.env?.versions?.node ?? "" }, {
      intraOpNumThreads: threads,
    });
  }
  if (backend === "wasm") {
    const ort: Ort = await import("onnxruntime-web");
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.simd = true;
    return makeRuntime(ort, backend, ["wasm"], { threads, version: ort.env.versions?.web ?? "" });
  }
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) throw new Error(`Cannot use backend "webgpu": navigator.gpu is not available`);
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error(`Cannot use backend "webgpu": no WebGPU adapter found`);
  const ort: Ort = await import("onnxruntime-web/webgpu");
  ort.env.wasm.numThreads = threads;
  const adapterInfo = (adapter as { info?: { vendor?: string; architecture?: string; description?: string } })
    .info;
  ort.env.webgpu.adapter = adapter;
  return makeRuntime(ort, backend, ["webgpu"], {
    threads,
    adapter: [adapterInfo?.vendor, adapterInfo?.architecture, adapterInfo?.description]
      .filter(Boolean).join(" "),
  });
}

function makeRuntime(
  ort: Ort,
  backend: BackendName,
  executionProviders: string[],
  info: Record<string, string | number | boolean>,
  extra: Record<string, unknown> = {},
): Runtime {
  return {
    backend,
    info,
    async createSession(model: Uint8Array, options: SessionOptions = {}): Promise<GraphSession> {
      const session = await ort.InferenceSession.create(model, {
        executionProviders,
        graphOptimizationLevel: "all",
        ...(options.verbose ? { logSeverityLevel: 0, logVerbosityLevel: 0 } : {}),
        ...extra,
      });
      return wrapSession(ort, session);
    },
  };
}

function wrapSession(ort: Ort, session: Ort): GraphSession {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds, outputs) {
      const ortFeeds: Record<string, unknown> = {};
      for (const [name, t] of Object.entries(feeds)) {
        ortFeeds[name] = new ort.Tensor(t.type, t.data, t.dims);
      }
      const result = outputs ? await session.run(ortFeeds, outputs) : await session.run(ortFeeds);
      const out: Record<string, HostTensor> = {};
      for (const [name, t] of Object.entries(result) as [string, Ort][]) {
        const data = t.location && t.location !== "cpu" ? await t.getData(true) : t.data;
        out[name] = { type: t.type as DType, dims: [...t.dims], data };
        if (t.location === "cpu" && typeof t.dispose === "function") {
          // CPU tensors own plain typed arrays; nothing to free.
        }
      }
      return out;
    },
    async release() {
      await session.release();
    },
  };
}
