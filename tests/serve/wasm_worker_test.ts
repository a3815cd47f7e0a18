/**
 * With BACKEND=wasm the service compiles and scores in a Worker: the HTTP thread answers /healthz
 * while a 64-image S&I request is scored (a tiny model keeps the test short).
 */
import assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "../../src/config.ts";
import { createApp } from "../../src/http/app.ts";
import { startModels } from "../../src/serve/load_models.ts";
import { tinyModelsDir } from "./tiny_models_dir.ts";
import { solidPng } from "../http/png.ts";

Deno.test("with BACKEND=wasm, /healthz answers within 100 ms while a 64-image batch is scored", async () => {
  const modelsDir = await tinyModelsDir();
  const config = {
    ...DEFAULT_CONFIG,
    modelsDir,
    backend: "wasm" as const,
    batchMax: 64,
    batchWaitMs: 0,
    publicDir: "/nonexistent-public",
  };
  const { registry, loaded } = startModels(config);
  const app = createApp({ registry, config });
  const health = async () => {
    const t0 = performance.now();
    const res = await app.handler(new Request("http://localhost/healthz"));
    await res.body?.cancel();
    assert.equal(res.status, 200);
    return performance.now() - t0;
  };
  const slowest = { loading: 0, scoring: 0 };
  try {
    // While the worker loads the model and compiles its graph.
    const isLoaded = loaded.then(() => true);
    while (!(await Promise.race([isLoaded, Promise.resolve(false)]))) {
      slowest.loading = Math.max(slowest.loading, await health());
      await new Promise((r) => setTimeout(r, 10));
    }
    const form = new FormData();
    for (let i = 0; i < 64; i++) {
      form.append(`f${i}`, new Blob([await solidPng(i * 4, 8)]), `${i}.png`);
    }
    const res = await app.handler(
      new Request("http://localhost/v1/models/tiny/score?iterations=3", {
        method: "POST",
        body: form,
      }),
    );
    let done = false;
    const body = res.text().then((t) => {
      done = true;
      return t;
    });
    let polls = 0;
    while (!done) {
      slowest.scoring = Math.max(slowest.scoring, await health());
      polls++;
      await new Promise((r) => setTimeout(r, 10));
    }
    const lines = (await body).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(res.status, 200);
    assert.equal(lines.filter((l) => typeof l.score === "number").length, 64);
    assert.ok(polls >= 2, `scoring finished after ${polls} health checks: nothing was measured`);
    assert.ok(slowest.loading < 100, `/healthz took ${slowest.loading} ms while loading`);
    assert.ok(slowest.scoring < 100, `/healthz took ${slowest.scoring} ms while scoring`);
  } finally {
    await app.drain();
    for (const m of registry.list()) (m.scorer as { terminate?: () => void }).terminate?.();
    await Deno.remove(modelsDir, { recursive: true });
  }
});
