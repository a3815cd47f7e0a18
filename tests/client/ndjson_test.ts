import assert from "node:assert/strict";
import { readNdjson } from "../../client/ndjson.ts";

/** A byte stream delivering the given chunks one by one. */
function chunked(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]);
      else controller.close();
    },
  });
}

Deno.test("readNdjson() reassembles lines and characters split across chunks", async () => {
  const bytes = new TextEncoder().encode('{"label":"Küche"}\n\n{"n":2}\n{"n":3}');
  // Split inside the two-byte "ü" and inside the second line.
  const cutA = bytes.indexOf(0xc3) + 1;
  const cutB = cutA + 14;
  const stream = chunked([bytes.slice(0, cutA), bytes.slice(cutA, cutB), bytes.slice(cutB)]);
  const values: unknown[] = [];
  for await (const v of readNdjson(stream)) values.push(v);
  assert.deepEqual(values, [{ label: "Küche" }, { n: 2 }, { n: 3 }]);
});

Deno.test("readNdjson() rejects a malformed line", async () => {
  const stream = chunked([new TextEncoder().encode('{"ok":1}\n{oops\n')]);
  const values: unknown[] = [];
  await assert.rejects(
    (async () => {
      for await (const v of readNdjson(stream)) values.push(v);
    })(),
    SyntaxError,
  );
  assert.deepEqual(values, [{ ok: 1 }]);
});
