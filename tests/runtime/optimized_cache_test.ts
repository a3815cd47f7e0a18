import assert from "node:assert/strict";
import { join } from "node:path";
import { openOptimized } from "../../src/runtime/optimized_cache.ts";
import { availableBackends, getRuntime } from "../../src/runtime/runtime.ts";
import type { HostTensor, Runtime, SessionOptions } from "../../src/runtime/types.ts";
import { withCacheDir } from "./cache_dir.ts";

// The tiny BiT has onnxruntime's Pad(0)→MaxPool fusion pattern (src/runtime/optimization.ts):
// an optimised file must not bake a result-changing rewrite in.
const BIT = new URL("../fixtures/bit-tiny-fmnist/model.onnx", import.meta.url);
const native = (await availableBackends(["native"])).native === true;

const photos = await Deno.readFile(
  new URL("../fixtures/bit-tiny-fmnist/id-fmnist.u8", import.meta.url),
);

/** Four Fashion-MNIST photos (28×28, grey) padded to the model's [3, 32, 32], in [−1, 1]. */
function input(): HostTensor {
  const data = new Float32Array(4 * 3 * 32 * 32);
  for (let n = 0; n < 4; n++) {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const p = photos[
            n * 784 + Math.min(27, Math.max(0, y - 2)) * 28 +
            Math.min(27, Math.max(0, x - 2))
          ];
          data[((n * 3 + c) * 32 + y) * 32 + x] = (p / 255 - 0.5) / 0.5;
        }
      }
    }
  }
  return { type: "float32", dims: [4, 3, 32, 32], data };
}

/** The runtime, recording the options of every session created through it. */
function recording(inner: Runtime): Runtime & { made: SessionOptions[] } {
  const rt = {
    backend: inner.backend,
    info: inner.info,
    made: [] as SessionOptions[],
    createSession(model: Uint8Array | string, options: SessionOptions = {}) {
      rt.made.push(options);
      return inner.createSession(model, options);
    },
  };
  return rt;
}

async function logits(session: Promise<import("../../src/runtime/types.ts").GraphSession>) {
  const s = await session;
  const y = (await s.run({ input: input() })).logits.data as Float32Array;
  await s.release();
  return y;
}

Deno.test({
  name: "openOptimized() writes onnxruntime's optimised graph once and reopens it unoptimised",
  ignore: !native,
  fn: async () => {
    const rt = await getRuntime("native");
    const want = await logits(rt.createSession(BIT.pathname, { optimization: "disabled" }));
    const product = await logits(rt.createSession(BIT.pathname));
    await withCacheDir(async (dir) => {
      let asked = 0;
      const source = () => (asked++, Promise.resolve(BIT.pathname));
      const cold = recording(rt);
      const first = await logits(openOptimized(cold, "k1", dir, source));
      assert.equal(asked, 1);
      assert.ok((await Deno.stat(join(dir, ".cache", "k1.opt.onnx"))).isFile);
      assert.equal(cold.made.at(-1)?.optimization, "disabled", "the cold process reopens the file");
      const warm = recording(rt);
      const second = await logits(openOptimized(warm, "k1", dir, source));
      assert.equal(asked, 1, "a restart does not read the source graph");
      assert.deepEqual(warm.made, [{ optimization: "disabled", prepacking: false }]);
      assert.deepEqual(second, first);
      assert.deepEqual(first, product, "the cached graph is the product's optimised graph");
      // The optimizer guard's measure (tests/runtime/optimizer_guard_test.ts on branch fusion):
      // 1e-5 relative, elements under 1 % of the largest against that scale. The optimised graph
      // sums in another order than the unoptimised one (NCHWc kernels): 3.3e-6 measured here.
      const scale = 0.01 * Math.max(...want.map(Math.abs));
      for (let i = 0; i < want.length; i++) {
        const rel = Math.abs(second[i] - want[i]) / Math.max(Math.abs(want[i]), scale);
        assert.ok(rel <= 1e-5, `logit ${i}: ${second[i]} vs unoptimised ${want[i]}`);
      }
    });
  },
});

Deno.test({
  name: "openOptimized() rebuilds an entry whose sidecar does not match",
  ignore: !native,
  fn: async () => {
    const rt = await getRuntime("native");
    await withCacheDir(async (dir) => {
      let asked = 0;
      const source = () => (asked++, Promise.resolve(BIT.pathname));
      await (await openOptimized(rt, "k2", dir, source)).release();
      await Deno.writeTextFile(join(dir, ".cache", "k2.opt.onnx"), "torn");
      await logits(openOptimized(rt, "k2", dir, source));
      assert.equal(asked, 2);
    });
  },
});
