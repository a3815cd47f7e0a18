import assert from "node:assert/strict";
import { withCacheDir } from "./cache_dir.ts";
import { join } from "node:path";
import {
  clearMemoryCache,
  getOrBuildFile,
  writeCompiledFile,
} from "../../src/runtime/compile_cache.ts";
import { externalize } from "../../src/onnx/external_data.ts";
import { type ModelProto, readModel } from "../../src/onnx/proto.ts";
import { getRuntime } from "../../src/runtime/runtime.ts";
import type { HostTensor } from "../../src/runtime/types.ts";

// The bundled WRN-40-2 (9 MB of weights, 1 KiB to 590 KiB per tensor) as the "compiled" model.
const bytes = await Deno.readFile(new URL("../../models/fmnist-wrn40/model.onnx", import.meta.url));
const model = readModel(bytes);
const input: HostTensor = {
  type: "float32",
  dims: [2, 3, 32, 32],
  data: Float32Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => ((i * 7919) % 255) / 255),
};

/** Logits of one run of a session made from bytes or a file path. */
async function logits(from: Uint8Array | string): Promise<number[]> {
  const session = await (await getRuntime("native")).createSession(from);
  const out = await session.run({ input });
  await session.release();
  return Array.from(out[session.outputNames[0]].data as Float32Array);
}

Deno.test("externalize() moves large raw initializers to page-aligned blocks and keeps the rest", () => {
  const ext = externalize(model, "m.onnx.data");
  const moved = ext.model.graph!.initializer!.filter((t) => t.externalData?.length);
  assert.ok(moved.length > 10);
  for (const [i, t] of moved.entries()) {
    const kv = Object.fromEntries(t.externalData!.map((e) => [e.key, e.value]));
    assert.equal(kv.location, "m.onnx.data");
    assert.equal(Number(kv.offset) % 4096, 0);
    assert.equal(Number(kv.offset), ext.blocks[i].offset);
    assert.equal(Number(kv.length), ext.blocks[i].bytes.length);
    assert.equal(t.rawData?.length ?? 0, 0);
  }
  const last = ext.blocks.at(-1)!;
  assert.equal(ext.dataBytes, last.offset + last.bytes.length);
  // The input model is untouched: the engine keeps using its tensors.
  assert.ok(model.graph!.initializer!.every((t) => !t.externalData?.length));
  assert.throws(() => externalize(model, "../x.data"), RangeError);
});

Deno.test("getOrBuildFile() writes a graph file whose session equals the one from bytes", async () => {
  await withCacheDir(async (dir) => {
    let calls = 0;
    const compile = () => {
      calls++;
      return Promise.resolve(model);
    };
    const path = await getOrBuildFile("k", dir, async (p) => writeCompiledFile(p, await compile()));
    assert.equal(path, join(dir, ".cache", "k.onnx"));
    assert.ok((await Deno.stat(path)).size < bytes.length / 10, "weights are in the side file");
    assert.deepEqual(await logits(path as string), await logits(bytes));
    clearMemoryCache(); // a restart: the entry is verified and reused
    assert.equal(
      await getOrBuildFile("k", dir, async (p) => writeCompiledFile(p, await compile())),
      path,
    );
    assert.equal(calls, 1);
    const names = [...Deno.readDirSync(join(dir, ".cache"))].map((e) => e.name).sort();
    assert.deepEqual(names, ["k.onnx", "k.onnx.data", "k.onnx.sha256"]);
  });
});

Deno.test("getOrBuildFile() rebuilds an entry whose side file is damaged", async () => {
  await withCacheDir(async (dir) => {
    let calls = 0;
    const compile = () => (calls++, Promise.resolve(model));
    const path = await getOrBuildFile(
      "k",
      dir,
      async (p) => writeCompiledFile(p, await compile()),
    ) as string;
    const data = await Deno.readFile(`${path}.data`);
    for (
      const damage of [
        () => Deno.writeFile(`${path}.data`, data.subarray(0, data.length - 1)),
        () => Deno.writeFile(`${path}.data`, data.map((b, i) => i === 5000 ? b ^ 1 : b)),
        () => Deno.remove(`${path}.data`),
      ]
    ) {
      await damage();
      clearMemoryCache();
      await getOrBuildFile("k", dir, async (p) => writeCompiledFile(p, await compile()));
      assert.deepEqual(await Deno.readFile(`${path}.data`), data, "the entry is repaired");
    }
    assert.equal(calls, 4);
  });
});

Deno.test("getOrBuildFile() returns the model itself when the cache cannot be written", async () => {
  await withCacheDir(async (dir) => {
    await Deno.writeTextFile(join(dir, ".cache"), "a file where the folder should be");
    const warn = console.warn;
    const warnings: string[] = [];
    console.warn = (m: string) => warnings.push(m);
    let got: string | ModelProto;
    try {
      got = await getOrBuildFile("k", dir, (p) => writeCompiledFile(p, model));
    } finally {
      console.warn = warn;
    }
    assert.equal(got, model);
    assert.match(warnings.join("\n"), /Compile cache: cannot write .*k\.onnx/);
  });
});
