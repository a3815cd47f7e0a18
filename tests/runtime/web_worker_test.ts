import assert from "node:assert/strict";
import { startModuleWorker, WebWorker } from "../../src/web_worker.ts";
import { getRuntime } from "../../src/runtime/runtime.ts";

Deno.test("startModuleWorker() still starts module Workers after the wasm backend loaded here", async () => {
  await getRuntime("wasm");
  const url = new URL("./echo_worker.ts", import.meta.url);
  if (globalThis.Worker !== WebWorker) {
    // The hazard this module exists for: the replaced global refuses module URLs.
    assert.throws(() => new globalThis.Worker(url.href, { type: "module" }));
  }
  const worker = startModuleWorker(url);
  try {
    const echoed = new Promise((resolve) => (worker.onmessage = (ev) => resolve(ev.data)));
    worker.postMessage("ping");
    assert.equal(await echoed, "ping");
  } finally {
    worker.terminate();
  }
});
