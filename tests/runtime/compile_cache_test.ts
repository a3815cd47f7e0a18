import assert from "node:assert/strict";
import { withCacheDir } from "./cache_dir.ts";
import { join } from "node:path";
import {
  clearMemoryCache,
  compileKey,
  getOrCompile,
  sha256Hex,
} from "../../src/runtime/compile_cache.ts";

/** A compile function that counts its calls and returns fixed bytes. */
function counter(bytes: Uint8Array) {
  const c = {
    calls: 0,
    compile: () => {
      c.calls++;
      return Promise.resolve(bytes);
    },
  };
  return c;
}

const BYTES = new Uint8Array([8, 1, 18, 3, 97, 98, 99, 0, 255]);

Deno.test("getOrCompile() compiles once, then serves memory and, after a restart, disk", async () => {
  await withCacheDir(async (dir) => {
    const c = counter(BYTES);
    assert.deepEqual(await getOrCompile("k1", dir, c.compile), BYTES);
    assert.deepEqual(await getOrCompile("k1", dir, c.compile), BYTES);
    assert.equal(c.calls, 1);
    assert.deepEqual(await Deno.readFile(join(dir, ".cache", "k1.onnx")), BYTES);
    clearMemoryCache(); // what a process restart looks like to the cache
    assert.deepEqual(await getOrCompile("k1", dir, c.compile), BYTES);
    assert.equal(c.calls, 1);
  });
});

Deno.test("getOrCompile() shares one compilation between concurrent callers", async () => {
  await withCacheDir(async (dir) => {
    const c = counter(BYTES);
    const all = await Promise.all([1, 2, 3].map(() => getOrCompile("k", dir, c.compile)));
    assert.equal(c.calls, 1);
    for (const b of all) assert.deepEqual(b, BYTES);
  });
});

Deno.test("getOrCompile() recompiles when the file is truncated, altered or lacks its sidecar", async () => {
  await withCacheDir(async (dir) => {
    const c = counter(BYTES);
    const path = join(dir, ".cache", "k.onnx");
    await getOrCompile("k", dir, c.compile);
    const damage: (() => Promise<void>)[] = [
      () => Deno.writeFile(path, BYTES.slice(0, 4)),
      () => Deno.writeFile(path, BYTES.map((b, i) => (i === 2 ? b ^ 1 : b))),
      () => Deno.remove(`${path}.sha256`),
      () => Deno.writeTextFile(`${path}.sha256`, "{not json"),
    ];
    for (const [i, d] of damage.entries()) {
      await d();
      clearMemoryCache();
      assert.deepEqual(await getOrCompile("k", dir, c.compile), BYTES);
      assert.equal(c.calls, i + 2);
      assert.deepEqual(await Deno.readFile(path), BYTES, "the entry is repaired on disk");
    }
  });
});

Deno.test("getOrCompile() leaves no temp files and forgets a failed compilation", async () => {
  await withCacheDir(async (dir) => {
    await assert.rejects(
      getOrCompile("k", dir, () => Promise.reject(new Error("boom"))),
      /boom/,
    );
    const c = counter(BYTES);
    assert.deepEqual(await getOrCompile("k", dir, c.compile), BYTES);
    const names = [...Deno.readDirSync(join(dir, ".cache"))].map((e) => e.name).sort();
    assert.deepEqual(names, ["k.onnx", "k.onnx.sha256"]);
  });
});

Deno.test("getOrCompile() rejects keys that could escape the cache folder", () => {
  for (const bad of ["../x", "a/b", "", ".hidden"]) {
    assert.throws(() => getOrCompile(bad, "/tmp", () => Promise.resolve(BYTES)), RangeError);
  }
});

Deno.test("compileKey() depends on both the model digest and the settings", async () => {
  const sha = await sha256Hex(BYTES);
  assert.equal(sha.length, 64);
  const a = await compileKey(sha, "si;T=2");
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.equal(await compileKey(sha, "si;T=2"), a);
  assert.notEqual(await compileKey(sha, "si;T=3"), a);
  assert.notEqual(await compileKey(await sha256Hex("other"), "si;T=2"), a);
});
