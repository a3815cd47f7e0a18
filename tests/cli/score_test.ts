import assert from "node:assert/strict";
import { main } from "../../src/cli/score.ts";

const U8 = "u8:tests/fixtures/wrn40-fmnist/id-fmnist.u8:28x28";
const reference = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/wrn40-fmnist/reference.json", import.meta.url)),
);

Deno.test("score CLI writes one NDJSON line per input, in order, with the reference scores", async () => {
  const lines: string[] = [];
  const code = await main(
    [
      "--model",
      "models/fmnist-wrn40",
      "--method",
      "maxlogit",
      "--backend",
      "native",
      "--batch",
      "2",
      `${U8}[0:5]`,
    ],
    undefined,
    (l) => lines.push(l),
  );
  assert.equal(code, 0);
  const rows = lines.map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((r) => r.index), [0, 1, 2, 3, 4]);
  for (const r of rows) {
    assert.ok(Math.abs(r.score - reference.sets.fmnist_test.scores.maxlogit[r.index]) < 5e-5);
    assert.equal(r.method, "maxlogit");
    assert.equal(typeof r.label, "string");
    assert.ok(r.confidence > 0 && r.confidence <= 1);
    assert.match(r.input, /id-fmnist\.u8/);
  }
});

Deno.test("score CLI exits 2 with usage on bad flags", async () => {
  const errors: string[] = [];
  const original = console.error;
  console.error = (m: string) => errors.push(m);
  try {
    assert.equal(await main(["--model", "models/fmnist-wrn40", "--iterations", "x", U8]), 2);
    assert.equal(await main(["--model", "models/fmnist-wrn40"]), 2);
  } finally {
    console.error = original;
  }
  assert.match(errors[0], /--iterations: expected an integer from 1 to 10, got "x"/);
  assert.match(errors[1], /no inputs given/);
});

Deno.test("score CLI scores the bundled tiny-BiT model with S&I-A (the authors' reference values)", async () => {
  const bitRef = JSON.parse(
    await Deno.readTextFile(new URL("../fixtures/bit-tiny-fmnist/reference.json", import.meta.url)),
  );
  const lines: string[] = [];
  const code = await main(
    [
      "--model",
      "models/bit-tiny-fmnist",
      "--method",
      "si_a",
      "--backend",
      "native",
      // MNIST digits: where model.onnx reproduces the reference's forward pass exactly.
      "u8:tests/fixtures/bit-tiny-fmnist/ood-mnist.u8:28x28[0:3]",
    ],
    undefined,
    (l) => lines.push(l),
  );
  assert.equal(code, 0);
  const rows = lines.map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((r) => r.index), [0, 1, 2]);
  for (const r of rows) {
    const expected = bitRef.sets["ood-mnist"].si_a[r.index];
    assert.ok(
      Math.abs(r.score - expected) <= 1e-3 * Math.abs(expected),
      `${r.score} vs ${expected}`,
    );
    assert.equal(r.class, bitRef.sets["ood-mnist"].class[r.index]);
    assert.equal(r.method, "si_a");
  }
});
