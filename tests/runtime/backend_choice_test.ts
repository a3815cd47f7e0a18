/** The automatic backend choice and the error for a backend that cannot load. */
import assert from "node:assert/strict";
import { resolveBackend } from "../../src/runtime/runtime.ts";
import { BackendUnavailableError } from "../../src/runtime/errors.ts";

Deno.test("resolveBackend() picks native when onnxruntime-node loads", async () => {
  assert.equal(await resolveBackend("auto"), "native");
  assert.equal(await resolveBackend("webgpu"), "webgpu");
  await assert.rejects(resolveBackend("cuda" as never), /Unknown backend "cuda"/);
});

Deno.test("resolveBackend() falls back to wasm where native cannot load, with a clear error", async () => {
  const child = new URL("./backend_choice_child.ts", import.meta.url);
  const config = new URL("../../deno.json", import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    // No --allow-ffi: onnxruntime-node's N-API binary is refused, as on Deno Deploy.
    args: ["run", "--allow-read", "--allow-env", "--config", config.pathname, child.pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const result = JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").at(-1)!);
  assert.equal(result.auto, "wasm");
  assert.equal(result.wasm, "wasm");
  assert.equal(result.native.name, "BackendUnavailableError");
  assert.equal(result.native.backend, "native");
  assert.match(result.native.message, /^Backend "native" is not available: .*--allow-ffi/);
});

Deno.test("BackendUnavailableError says which backend, why and what to do", () => {
  const e = new BackendUnavailableError("webgpu", "no WebGPU adapter found", "install a driver");
  assert.equal(
    e.message,
    'Backend "webgpu" is not available: no WebGPU adapter found (install a driver)',
  );
  assert.equal(e.backend, "webgpu");
  assert.ok(e instanceof Error);
});
