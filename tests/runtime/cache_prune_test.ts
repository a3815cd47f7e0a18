import assert from "node:assert/strict";
import { join } from "node:path";
import { markCacheUsed, pruneCache } from "../../src/runtime/cache_prune.ts";
import { getOrBuildFile } from "../../src/runtime/compile_cache.ts";
import { SiEngine } from "../../src/engine/engine.ts";
import type { ScoreSettings } from "../../src/contract/scoring.ts";
import { withCacheDir } from "./cache_dir.ts";
import { tinyInputs, tinyModel } from "../si/tiny_model.ts";

/** Writes entry `key` as two files of 60 and 40 bytes, last used `minutesAgo` minutes ago. */
async function entry(dir: string, key: string, minutesAgo: number): Promise<void> {
  const cache = join(dir, ".cache");
  await Deno.mkdir(cache, { recursive: true });
  const when = new Date(Date.now() - minutesAgo * 60_000);
  for (const [name, size] of [[`${key}.onnx`, 60], [`${key}.onnx.sha256`, 40]] as const) {
    await Deno.writeFile(join(cache, name), new Uint8Array(size));
    await Deno.utime(join(cache, name), when, when);
  }
}

const names = (dir: string) => [...Deno.readDirSync(join(dir, ".cache"))].map((f) => f.name).sort();

Deno.test("pruneCache() removes the least recently used entries until the folder fits", async () => {
  await withCacheDir(async (dir) => {
    await entry(dir, "aaaa", 30);
    await entry(dir, "bbbb", 20);
    await entry(dir, "cccc", 10);
    await Deno.writeFile(join(dir, ".cache", "dddd.onnx.tmp-1-x"), new Uint8Array(500));
    assert.deepEqual(await pruneCache(dir, 250, ["aaaa"]), ["bbbb"]);
    assert.deepEqual(names(dir), [
      "aaaa.onnx",
      "aaaa.onnx.sha256",
      "cccc.onnx",
      "cccc.onnx.sha256",
      "dddd.onnx.tmp-1-x", // a write in progress is nobody's to remove
    ]);
    assert.deepEqual(await pruneCache(dir, 250), [], "already fits (temporary files not counted)");
  });
});

Deno.test("markCacheUsed() makes an entry the most recently used", async () => {
  await withCacheDir(async (dir) => {
    await entry(dir, "aaaa", 30);
    await entry(dir, "bbbb", 20);
    await markCacheUsed(dir, ["aaaa"]);
    assert.deepEqual(await pruneCache(dir, 100), ["bbbb"]);
    assert.deepEqual(await pruneCache(join(dir, "missing"), 0), [], "no cache folder yet");
  });
});

Deno.test("SiEngine keeps its compile cache under cacheMaxMb, its own entries and the newest graph kept", async () => {
  await withCacheDir(async (cacheDir) => {
    const engine = await SiEngine.create({
      modelBytes: tinyModel(),
      backend: "native",
      inputDims: [3, 8, 8],
      splitPolicy: { kind: "normalization+pool" },
      cacheDir,
      cacheMaxMb: 1e-6, // any compiled graph is over it: only the entries in use stay
      compileInWorker: false,
    });
    const input = { data: tinyInputs(1), dims: [1, 3, 8, 8] as [number, number, number, number] };
    const si: ScoreSettings = {
      method: "si",
      alpha: 0.05,
      iterations: 2,
      loss: "ce",
      integrate: "add",
    };
    const keys = () => new Set(names(cacheDir).map((n) => n.slice(0, n.indexOf("."))));
    await engine.score(input, si);
    const afterFirst = keys();
    await engine.score(input, { ...si, iterations: 3 });
    const afterSecond = keys();
    const gone = [...afterFirst].filter((k) => !afterSecond.has(k));
    const added = [...afterSecond].filter((k) => !afterFirst.has(k));
    assert.equal(added.length, 2, "the T = 3 graph and onnxruntime's optimised copy");
    assert.equal(gone.length, 2, "the T = 2 graph and its optimised copy were pruned");
    const again = await engine.score(input, si);
    assert.ok(again.every((r) => Number.isFinite(r.score)), "its settings still score");
  });
});

Deno.test("pruneCache() makes getOrBuildFile() build a removed entry again instead of returning its path", async () => {
  await withCacheDir(async (dir) => {
    let builds = 0;
    const build = async (path: string) => {
      builds++;
      await Deno.mkdir(join(dir, ".cache"), { recursive: true });
      await Deno.writeTextFile(path, "graph");
      await Deno.writeTextFile(`${path}.sha256`, "not a valid sidecar: rebuilt on a restart");
      return path;
    };
    const key = "0123456789abcdef0123456789abcdef";
    const path = await getOrBuildFile(key, dir, build);
    assert.equal(await getOrBuildFile(key, dir, build), path);
    assert.equal(builds, 1, "remembered in this process");
    assert.deepEqual(await pruneCache(dir, 0), [key]);
    assert.equal(await getOrBuildFile(key, dir, build), path);
    assert.equal(builds, 2, "built again after it was removed from disk");
    assert.ok((await Deno.stat(join(dir, ".cache", `${key}.onnx`))).isFile);
  });
});
