import assert from "node:assert/strict";
import { Image } from "imagescript";
import { ApiError } from "../../src/errors.ts";
import { ByteBudget } from "../../src/image/byte_budget.ts";
import { decodeImage } from "../../src/image/decode.ts";
import { DecodePool, estimateDecodeBytes } from "../../src/image/decode_pool.ts";
import { gifFrameBomb } from "./bombs.ts";
import { createPreprocessor } from "../../src/image/preprocess.ts";
import { makeTiff } from "./helpers.ts";

const opts = { maxPixels: 1_000_000 };

async function pngOf(w: number, h: number): Promise<Uint8Array> {
  const img = new Image(w, h);
  for (let i = 0; i < w * h; i++) img.bitmap.set([i % 251, (i * 7) % 253, 9, 255], i * 4);
  return await img.encode();
}

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApiError, `expected ApiError, got ${e}`);
    return e;
  }
  assert.fail("expected a rejection");
}

Deno.test("ByteBudget() admits in FIFO order and clamps a reservation to its capacity", async () => {
  const budget = new ByteBudget(100);
  const order: string[] = [];
  const a = await budget.acquire(60);
  const b = budget.acquire(60).then((r) => (order.push("b"), r));
  const c = budget.acquire(10).then((r) => (order.push("c"), r));
  await Promise.resolve();
  // c would fit now, but waits behind b (no starvation of large reservations).
  assert.deepEqual([budget.used, budget.waiting, order], [60, 2, []]);
  a();
  a(); // idempotent
  (await b)();
  (await c)();
  assert.deepEqual(order, ["b", "c"]);
  const huge = await budget.acquire(10_000);
  assert.equal(budget.used, 100);
  huge();
  assert.equal(budget.used, 0);
});

Deno.test("DecodePool.decode() returns the same pixels as decodeImage() for PNG and TIFF", async () => {
  const pool = new DecodePool({ workers: 2, maxInflightBytes: 2 ** 30 });
  try {
    const png = await pngOf(13, 7);
    const tiff = makeTiff(
      3,
      2,
      new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]),
    );
    for (const [bytes, name] of [[png, "a.png"], [tiff, "a.tif"]] as const) {
      const [off, on] = await Promise.all([
        pool.decode(bytes, name, opts),
        decodeImage(bytes, name, opts),
      ]);
      assert.deepEqual([off.width, off.height], [on.width, on.height]);
      assert.deepEqual(off.data, on.data);
    }
  } finally {
    pool.close();
  }
});

Deno.test("DecodePool.decode() keeps the status of errors: 415, 413, and 422 from the worker", async () => {
  const pool = new DecodePool({ workers: 1, maxInflightBytes: 2 ** 30 });
  try {
    const garbage = await rejection(pool.decode(new Uint8Array([1, 2, 3, 4]), "g.bin", opts));
    assert.deepEqual([garbage.status, garbage.code], [415, "unsupported_media_type"]);
    const bomb = await rejection(pool.decode(gifFrameBomb(), "bomb.gif", opts));
    assert.deepEqual([bomb.status, bomb.code], [413, "image_too_large"]);
    // A valid header with corrupt pixel data passes the sniff: this 422 comes from the worker.
    const png = await pngOf(32, 32);
    const broken = png.slice();
    for (let i = 41; i < broken.length - 12; i++) broken[i] ^= 0x5a;
    const corrupt = await rejection(pool.decode(broken, "broken.png", opts));
    assert.deepEqual([corrupt.status, corrupt.code], [422, "corrupt_image"]);
    assert.match(corrupt.message, /^Cannot decode image "broken.png": png data is corrupt/);
  } finally {
    pool.close();
  }
});

Deno.test("DecodePool bounds concurrent decodes by their estimated bytes", async () => {
  const png = await pngOf(64, 64);
  const one = estimateDecodeBytes({ format: "png", width: 64, height: 64 }, png.length);
  // Room for one decode at a time although there are two workers.
  const pool = new DecodePool({ workers: 2, maxInflightBytes: one });
  try {
    const all = Promise.all([1, 2, 3].map((k) => pool.decode(png, `${k}.png`, opts)));
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(pool.budget.used, one);
    assert.equal(pool.budget.waiting, 2);
    const out = await all;
    assert.ok(out.every((img) => img.width === 64 && img.data.length === 64 * 64 * 4));
    assert.equal(pool.budget.used, 0);
  } finally {
    pool.close();
  }
});

Deno.test("DecodePool replaces a worker after recycleBytes and keeps decoding", async () => {
  const pool = new DecodePool({ workers: 1, maxInflightBytes: 2 ** 30, recycleBytes: 1 });
  try {
    const png = await pngOf(5, 5);
    const expected = await decodeImage(png, "a.png", opts);
    for (let k = 0; k < 3; k++) {
      assert.deepEqual((await pool.decode(png, "a.png", opts)).data, expected.data);
    }
  } finally {
    pool.close();
  }
});

Deno.test("DecodePool.close() rejects running and waiting decodes", async () => {
  const pool = new DecodePool({ workers: 1, maxInflightBytes: 2 ** 30 });
  const png = await pngOf(256, 256);
  const a = pool.decode(png, "a.png", opts);
  const b = pool.decode(png, "b.png", opts);
  const failed = Promise.all([
    assert.rejects(a, /the decode pool was closed/),
    assert.rejects(b, /the decode pool was closed/),
  ]);
  await new Promise((r) => setTimeout(r, 0));
  pool.close();
  await failed;
});

Deno.test("DecodePool.prepare() gives the same model input as decoding then pre-processing here", async () => {
  const manifest = JSON.parse(await Deno.readTextFile("models/fmnist-wrn40/manifest.json"));
  const pre = createPreprocessor(manifest.preprocess, manifest.input);
  assert.ok(pre.job, "createPreprocessor() records its job for the worker");
  const png = await pngOf(300, 170);
  const here = pre(await decodeImage(png, "a.png", opts));
  for (const workers of [0, 1]) {
    const pool = new DecodePool({ workers, maxInflightBytes: 2 ** 30 });
    try {
      const there = await pool.prepare(png, "a.png", opts, pre.job);
      assert.equal(there.length, 3 * 32 * 32);
      assert.deepEqual(there, here);
      const bomb = await rejection(pool.prepare(gifFrameBomb(), "bomb.gif", opts, pre.job));
      assert.equal(bomb.status, 413);
    } finally {
      pool.close();
    }
  }
});
