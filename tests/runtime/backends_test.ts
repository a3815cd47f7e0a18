/**
 * The fixture classifier on every backend: equal logits, and logits that match the reference
 * implementation's max-logit and energy scores on real Fashion-MNIST images.
 */
import assert from "node:assert/strict";
import { getRuntime } from "../../src/runtime/runtime.ts";
import { type BackendName, BACKENDS } from "../../src/contract/backends.ts";
import type { HostTensor } from "../../src/runtime/types.ts";

const ROOT = new URL("../../", import.meta.url);
const MODEL = Deno.readFileSync(new URL("models/fmnist-wrn40/model.onnx", ROOT));
const FIXTURE = new URL("tests/fixtures/wrn40-fmnist/", ROOT);

/** The first `n` fixture images, pre-processed exactly as the fixture README says. */
function fixtureBatch(n: number): HostTensor {
  const u8 = Deno.readFileSync(new URL("id-fmnist.u8", FIXTURE));
  const data = new Float32Array(n * 3 * 32 * 32);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
        const v = inside ? u8[i * 784 + (y - 2) * 28 + (x - 2)] / 255 : 0;
        for (let c = 0; c < 3; c++) data[((i * 3 + c) * 32 + y) * 32 + x] = (v - 0.2860) / 0.3530;
      }
    }
  }
  return { type: "float32", dims: [n, 3, 32, 32], data };
}

async function logitsOn(backend: BackendName, input: HostTensor): Promise<Float32Array> {
  const rt = await getRuntime(backend);
  const session = await rt.createSession(MODEL);
  try {
    const out = await session.run({ input }, ["logits"]);
    assert.deepEqual(out.logits.dims, [input.dims[0], 10]);
    return out.logits.data as Float32Array;
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

Deno.test("getRuntime() gives the same logits on every backend", async () => {
  const input = fixtureBatch(2);
  const logits = new Map<BackendName, Float32Array>();
  for (const b of BACKENDS) logits.set(b, await logitsOn(b, input));
  const native = logits.get("native")!;
  for (const b of BACKENDS) {
    const d = maxAbsDiff(native, logits.get(b)!);
    assert.ok(d < 1e-4, `${b} differs from native by ${d}`);
  }
});

Deno.test("getRuntime() logits reproduce the reference max-logit and energy scores", async () => {
  const ref = JSON.parse(Deno.readTextFileSync(new URL("reference.json", FIXTURE)));
  const scores = ref.sets.fmnist_test.scores as Record<string, number[]>;
  const logits = await logitsOn("native", fixtureBatch(2));
  for (let i = 0; i < 2; i++) {
    const row = Array.from(logits.subarray(i * 10, i * 10 + 10));
    const max = Math.max(...row);
    const energy = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    assert.ok(Math.abs(max - scores.maxlogit[i]) < 1e-4, `image ${i}: max logit ${max}`);
    assert.ok(Math.abs(energy - scores.energy[i]) < 1e-4, `image ${i}: energy ${energy}`);
  }
});

Deno.test("getRuntime() caches one runtime per backend and describes it", async () => {
  for (const b of BACKENDS) {
    const rt = await getRuntime(b);
    assert.equal(await getRuntime(b), rt);
    assert.equal(rt.backend, b);
    assert.ok(Number(rt.info.threads) >= 1);
    assert.match(String(rt.info.version), /^1\.\d+\.\d+/);
  }
  assert.equal(typeof (await getRuntime("webgpu")).info.adapter, "string");
});
