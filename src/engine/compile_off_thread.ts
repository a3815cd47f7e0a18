/**
 * Compiling a scoring graph in a short-lived Worker (compile_worker.ts), so that the thread that
 * runs the model's sessions keeps serving other requests while a new graph (new method, new T)
 * is emitted and written: it only pays onnxruntime's session creation. One Worker per compile,
 * terminated as soon as it answers, so its heap (a parsed copy of the model, the flipped kernels
 * and the serialized graph) is freed at once rather than whenever V8 collects it.
 *
 * Sharing a compile between concurrent callers is not done here: callers go through the compile
 * cache (src/runtime/compile_cache.ts) or the session pool, which do that.
 * @module
 */
import type { ModelProto } from "../onnx/proto.ts";
import {
  type CompiledOutput,
  type CompileJob,
  type CompileReply,
  finishCompile,
  runCompileJob,
} from "./compile_job.ts";

import { WebWorker } from "../web_worker.ts";

export type { CompiledOutput, CompileJob } from "./compile_job.ts";

/**
 * The Worker constructor compiles use: src/web_worker.ts says why it is not `globalThis.Worker`.
 * Undefined on a platform without Workers. Replaceable, for tests of the fallback.
 */
export const compileWorkers: { Worker: typeof Worker | undefined } = { Worker: WebWorker };

/** How to compile off-thread. */
export interface OffThreadOptions {
  /** Called for each stacking fallback of the compile (see src/engine/fallbacks.ts). */
  readonly onFallback?: (reason: string) => void;
  /**
   * Compiles on the calling thread when no Worker can be started (a platform without Workers);
   * default: {@link runCompileJob}, which parses the job's model bytes again.
   */
  readonly inThread?: () => ModelProto;
}

/**
 * Compiles `job` in a fresh Worker: resolves to the written file's path (`job.file`, or the
 * serialized graph when the file could not be written) or to the serialized graph; rejects with
 * the compile's error (same name and message). Falls back to compiling on this thread when
 * `new Worker` is unavailable or throws.
 */
export function compileOffThread(
  job: CompileJob,
  options: OffThreadOptions = {},
): Promise<CompiledOutput> {
  let worker: Worker;
  try {
    const url = new URL("./compile_worker.ts", import.meta.url).href;
    worker = new compileWorkers.Worker!(url, { type: "module" });
  } catch {
    return compileInThread(job, options);
  }
  return new Promise<CompiledOutput>((resolve, reject) => {
    worker.onmessage = (ev: MessageEvent<CompileReply>) => {
      const reply = ev.data;
      if (reply.type === "fallback") return options.onFallback?.(reply.reason);
      worker.terminate();
      if (reply.type === "done") resolve(reply.output);
      else reject(rebuildError(reply.error));
    };
    worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      worker.terminate();
      reject(new Error(`The compile worker crashed: ${ev.message}`));
    };
    worker.onmessageerror = () => {
      worker.terminate();
      reject(new Error("The compile worker's answer could not be read"));
    };
    // A private copy is transferred: the caller's bytes may be a view of a larger buffer, and
    // `slice` would not do (on a node Buffer, which protobufjs writes, it makes a view).
    const modelBytes = new Uint8Array(job.modelBytes);
    worker.postMessage({ ...job, modelBytes } satisfies CompileJob, [modelBytes.buffer]);
  });
}

/** Compiles on this thread (the fallback of {@link compileOffThread}). */
export async function compileInThread(
  job: CompileJob,
  options: OffThreadOptions = {},
): Promise<CompiledOutput> {
  if (!options.inThread) return await runCompileJob(job, options.onFallback);
  return await finishCompile(options.inThread(), job.file);
}

function rebuildError(e: { name: string; message: string }): Error {
  const error = new Error(e.message);
  error.name = e.name;
  return error;
}
