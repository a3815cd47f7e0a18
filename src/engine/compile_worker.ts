/**
 * Worker entry of `compileOffThread` (compile_off_thread.ts): runs one compile job, forwards
 * stacking fallbacks, and posts back the written file's path or the serialized graph
 * (transferred), or the error with its name and message. The caller terminates the worker once
 * it has answered, which frees the compile's memory at once. No onnxruntime here: this only
 * emits ONNX protobufs.
 * @module
 */
/// <reference lib="deno.worker" />
import { type CompileJob, type CompileReply, runCompileJob } from "./compile_job.ts";

/**
 * Copies only when the array is a view of a larger buffer (otherwise the buffer is transferred):
 * protobufjs may write a node Buffer from a shared pool.
 */
function own(a: Uint8Array): Uint8Array {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : new Uint8Array(a);
}

self.onmessage = async (ev: MessageEvent<CompileJob>) => {
  const post = (reply: CompileReply, transfer: Transferable[] = []) =>
    self.postMessage(reply, transfer);
  try {
    const output = await runCompileJob(ev.data, (reason) => post({ type: "fallback", reason }));
    if (typeof output === "string") return post({ type: "done", output });
    const bytes = own(output);
    post({ type: "done", output: bytes }, [bytes.buffer]);
  } catch (e) {
    const error = e instanceof Error
      ? { name: e.name, message: e.message }
      : { name: "Error", message: String(e) };
    post({ type: "failed", error });
  }
};
