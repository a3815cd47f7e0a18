/**
 * The Web Worker constructor, taken when this module loads.
 *
 * onnxruntime-web's Emscripten code runs in Node mode under Deno and sets `globalThis.Worker` to
 * node's `worker_threads` Worker on any thread where the wasm or webgpu backend loads; that one
 * refuses module URLs (ERR_WORKER_PATH). Every module that starts Workers (decoding, scoring,
 * compiling) takes the constructor from here, imported before any backend loads.
 * @module
 */

/** The platform's Web Worker, or undefined where there is none. */
export const WebWorker: typeof Worker | undefined = globalThis.Worker;

/** Starts a module Worker with {@link WebWorker}; throws where Workers are unavailable. */
export function startModuleWorker(url: URL): Worker {
  if (!WebWorker) throw new Error(`Cannot start a Worker for ${url.href}: this runtime has none`);
  return new WebWorker(url.href, { type: "module" });
}
