/**
 * Run by backend_choice_test.ts in a process without --allow-ffi, where onnxruntime-node cannot
 * load. Prints one JSON line: what resolveBackend("auto") chose and how getRuntime("native") failed.
 */
import { BackendUnavailableError, getRuntime, resolveBackend } from "../../src/runtime/runtime.ts";

const auto = await resolveBackend("auto");
let native: Record<string, string> = {};
try {
  await getRuntime("native");
} catch (e) {
  native = {
    name: (e as Error).name,
    backend: e instanceof BackendUnavailableError ? e.backend : "",
    message: (e as Error).message,
  };
}
const wasm = (await getRuntime(auto)).backend;
console.log(JSON.stringify({ auto, native, wasm }));
