import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

Deno.test("main.ts listens before models load, answers /healthz, and exits 0 on SIGTERM", async () => {
  if (Deno.build.os === "windows") return;
  const empty = await Deno.makeTempDir();
  const main = fileURLToPath(new URL("../../main.ts", import.meta.url));
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", main],
    env: { PORT: "0", HOST: "127.0.0.1", MODELS_DIR: empty, BACKEND: "wasm" },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!/Listening on http:\/\/[^:]+:(\d+)\//.test(text)) {
      const { done, value } = await out.read();
      if (done) break;
      text += value;
    }
    const port = Number(/Listening on http:\/\/[^:]+:(\d+)\//.exec(text)?.[1]);
    assert.ok(port > 0, `no port in ${JSON.stringify(text)}`);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal((await ready.json()).error.code, "not_ready");
    child.kill("SIGTERM");
    while (!(await out.read()).done) { /* drain stdout */ }
    assert.equal((await child.status).code, 0);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("main.ts exits 2 with every problem listed when the configuration is invalid", async () => {
  const main = fileURLToPath(new URL("../../main.ts", import.meta.url));
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", main],
    env: { PORT: "http", BACKEND: "tpu" },
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 2);
  const text = new TextDecoder().decode(stderr);
  assert.match(text, /PORT must be an integer from 0 to 65535, got "http"/);
  assert.match(text, /BACKEND must be one of auto, native, wasm, webgpu, got "tpu"/);
});
