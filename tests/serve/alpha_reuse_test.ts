/**
 * A request with a new α reuses the compiled graph (α is a graph input): through the service, it
 * is not slower than twice a repeat at the old α. The tiny model at T = 8 with two images makes a
 * recompile cost many times a request; medians of interleaved pairs absorb timing noise.
 */
import assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "../../src/config.ts";
import { createApp } from "../../src/http/app.ts";
import { startModels } from "../../src/serve/load_models.ts";
import { solidPng } from "../http/png.ts";
import { tinyModelsDir } from "./tiny_models_dir.ts";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

Deno.test("a request at a new alpha is not slower than 2x a repeat at the old alpha", async () => {
  const modelsDir = await tinyModelsDir();
  const config = {
    ...DEFAULT_CONFIG,
    modelsDir,
    backend: "native" as const,
    batchWaitMs: 0,
    publicDir: "/nonexistent-public",
  };
  const { registry, loaded } = startModels(config);
  const app = createApp({ registry, config });
  const pngs = await Promise.all([solidPng(40, 8), solidPng(200, 8)]);
  const request = async (alpha: number) => {
    const form = new FormData();
    pngs.forEach((p, i) => form.append(`f${i}`, new Blob([p]), `${i}.png`));
    const t0 = performance.now();
    const res = await app.handler(
      new Request(`http://localhost/v1/models/tiny/score?iterations=8&alpha=${alpha}`, {
        method: "POST",
        body: form,
      }),
    );
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(res.status, 200);
    assert.equal(lines.filter((l) => typeof l.score === "number").length, 2);
    return performance.now() - t0;
  };
  try {
    await loaded;
    const first = await request(0.001); // compiles the T = 8 graph
    const repeats: number[] = [], fresh: number[] = [];
    for (const alpha of [0.002, 0.003, 0.004]) {
      repeats.push(await request(0.001));
      fresh.push(await request(alpha));
    }
    assert.ok(
      median(fresh) <= 2 * median(repeats),
      `new alphas took ${fresh} ms, repeats ${repeats} ms (first, compiling: ${first} ms)`,
    );
  } finally {
    await app.drain();
    for (const m of registry.list()) (m.scorer as { terminate?: () => void }).terminate?.();
    await Deno.remove(modelsDir, { recursive: true });
  }
});
