/**
 * The runtime entry points: `getRuntime(backend)` (cached per process), `resolveBackend()` for
 * the automatic choice, and `availableBackends()`. Backends: `wasm` (onnxruntime-web, SIMD +
 * threads), `webgpu` (onnxruntime-web's WebGPU build) and `native` (onnxruntime-node).
 * @module
 */
import type { GraphSession, Runtime, SessionOptions } from "./types.ts";
import { basename } from "node:path";
import { type BackendChoice, type BackendName, BACKENDS } from "../contract/backends.ts";
import { loadBackend, type LoadedBackend } from "./backends.ts";
import { wrapSession } from "./session.ts";
import { onnx } from "../onnx/proto.ts";
import { releaseFreedHeap } from "./heap.ts";
import { optimizationOptions } from "./optimization.ts";

import { BackendUnavailableError } from "./errors.ts";

export { BackendUnavailableError };

const cache = new Map<BackendName, Promise<Runtime>>();

/**
 * Returns the process-wide runtime for a backend, loading it on first use. The backend is
 * proven by running a one-node graph, so an unusable one fails here with a
 * `BackendUnavailableError`, not at the first real request. A failed load is not cached.
 */
export function getRuntime(backend: BackendName): Promise<Runtime> {
  let r = cache.get(backend);
  if (!r) {
    r = loadBackend(backend).then(makeRuntime).then(async (rt) => {
      await smokeTest(rt);
      return rt;
    });
    cache.set(backend, r);
    r.catch(() => cache.delete(backend));
  }
  return r;
}

/**
 * Turns a configured choice into a backend. "auto" is native when onnxruntime-node loads (it is
 * several times faster than wasm on a CPU), else wasm (which loads everywhere, Deno Deploy
 * included). WebGPU is never chosen automatically: a host without a GPU still offers a software
 * adapter (llvmpipe) that is far slower than either CPU backend, a real adapter says nothing
 * about whether it beats native threads for a small model, and some ops (e.g. MaxPool with
 * indices) are missing from its build — so it is opt-in.
 */
export async function resolveBackend(choice: BackendChoice): Promise<BackendName> {
  if (choice !== "auto") {
    if (!BACKENDS.includes(choice)) {
      throw new Error(`Unknown backend "${choice}"; use one of auto, ${BACKENDS.join(", ")}`);
    }
    return choice;
  }
  // Deno Deploy sets DENO_DEPLOYMENT_ID and cannot load native addons: skip the attempt.
  if (Deno.env.get("DENO_DEPLOYMENT_ID")) return "wasm";
  try {
    await getRuntime("native");
    return "native";
  } catch {
    return "wasm";
  }
}

/** Which backends load on this host; the error message for those that do not. */
export async function availableBackends(
  candidates: readonly BackendName[] = BACKENDS,
): Promise<Record<BackendName, true | string>> {
  const out = {} as Record<BackendName, true | string>;
  for (const b of candidates) {
    try {
      await getRuntime(b);
      out[b] = true;
    } catch (e) {
      out[b] = e instanceof Error ? e.message : String(e);
    }
  }
  return out;
}

/** The loaded onnxruntime build behind a runtime, for the diagnostics in this folder only. */
export const loadedBackends = new WeakMap<Runtime, LoadedBackend>();

function makeRuntime(lb: LoadedBackend): Runtime {
  const rt: Runtime = {
    backend: lb.backend,
    info: lb.info,
    async createSession(model, options = {}): Promise<GraphSession> {
      const create = lb.ort.InferenceSession.create as (
        model: Uint8Array | string,
        options: import("onnxruntime-web").InferenceSession.SessionOptions,
      ) => Promise<import("onnxruntime-web").InferenceSession>;
      const session = await create(model, {
        executionProviders: [...lb.executionProviders],
        ...withCacheOptions(
          optimizationOptions(options.oneOff ? "disabled" : options.optimization),
          options,
        ),
        ...(options.oneOff ? { enableCpuMemArena: false } : {}),
        enableMemPattern: options.memoryPattern ?? false,
        ...(options.verbose ? { logSeverityLevel: 0, logVerbosityLevel: 0 } : {}),
        ...lb.sessionOptions,
      });
      releaseFreedHeap(); // creation's temporaries (parsed protobuf, weight copies)
      return wrapSession(lb.ort, session);
    },
  };
  loadedBackends.set(rt, lb);
  return rt;
}

/**
 * Adds the optimised-model file (`optimizedModelFilePath`, weights of 1 KiB and more in
 * `<file>.data`) and pre-packing to the optimisation options; `extra` entries become onnxruntime
 * session config entries.
 */
function withCacheOptions(
  base: ReturnType<typeof optimizationOptions>,
  options: SessionOptions,
): Record<string, unknown> {
  const session: Record<string, string> = {};
  if (options.prepacking === false) session.disable_prepacking = "1";
  const path = options.optimizedModelPath;
  if (path) {
    session.optimized_model_external_initializers_file_name = `${basename(path)}.data`;
    session.optimized_model_external_initializers_min_size_in_bytes = "1024";
  }
  const extra = Object.keys(session).length ? { ...base.extra, session } : base.extra;
  return {
    ...base,
    ...(extra ? { extra } : {}),
    // onnxruntime warns that a level-"all" file is hardware-specific: the cache key says so.
    ...(path ? { optimizedModelFilePath: path, logSeverityLevel: 3 } : {}),
  };
}

let identityBytes: Uint8Array | undefined;

/** y = x + x on a [2] float tensor: the smallest graph that exercises the execution provider. */
function identityModel(): Uint8Array {
  if (identityBytes) return identityBytes;
  const vi = (name: string) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } },
    });
  identityBytes = onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "smoke",
      node: [{ opType: "Add", input: ["x", "x"], output: ["y"], name: "add" }],
      input: [vi("x")],
      output: [vi("y")],
    },
  })).finish();
  return identityBytes;
}

async function smokeTest(rt: Runtime): Promise<void> {
  try {
    const s = await rt.createSession(identityModel());
    const out = await s.run({ x: { type: "float32", dims: [2], data: new Float32Array([1, 2]) } });
    await s.release();
    const y = out.y.data as Float32Array;
    if (y[0] !== 2 || y[1] !== 4) throw new Error(`1+1 gave ${y[0]}, 2+2 gave ${y[1]}`);
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new BackendUnavailableError(rt.backend, `a one-node test graph failed: ${msg}`, "", {
      cause: e,
    });
  }
}
