import assert from "node:assert/strict";
import { createClient, SiApiError } from "../../client/mod.ts";

// Stream shapes the service only produces on failures (cut connections, proxies, shutdown),
// written by hand so each can be produced on demand.

const IMAGE = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);

function clientAnswering(respond: (req: Request) => Response) {
  return createClient({ baseUrl: "http://x.test", fetch: (req) => Promise.resolve(respond(req)) });
}

Deno.test("scoreImages() cancels the response stream when the loop exits early", async () => {
  let cancelled = false;
  let pulls = 0;
  const client = clientAnswering(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          pulls++;
          if (pulls === 1) controller.enqueue(new TextEncoder().encode('{"index":0,"name":"a"}\n'));
          // Afterwards nothing more ever arrives, like a server still scoring.
        },
        cancel() {
          cancelled = true;
        },
      }, { highWaterMark: 0 }),
    )
  );
  for await (const line of client.scoreImages("m", [IMAGE])) {
    assert.equal(line.index, 0);
    break;
  }
  assert.equal(cancelled, true);
});

Deno.test("scoreImages() reports a stream cut before its summary", async () => {
  const client = clientAnswering(() => new Response('{"index":0,"name":"a","score":1}\n'));
  const seen: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const line of client.scoreImages("m", [IMAGE])) seen.push(line.index);
    })(),
    (e: unknown) => e instanceof SiApiError && e.code === "truncated" && e.status === 200,
  );
  assert.deepEqual(seen, [0]);
});

Deno.test("scoreImages() turns a mid-stream error line into SiApiError", async () => {
  const body = '{"index":0,"name":"a"}\n{"error":{"code":"shutting_down","message":"bye"}}\n';
  const client = clientAnswering(() => new Response(body));
  await assert.rejects(
    client.scoreImages("m", [IMAGE]).collect(),
    (e: unknown) => e instanceof SiApiError && e.code === "shutting_down" && e.message === "bye",
  );
});

Deno.test("listModels() keeps a non-JSON error body readable", async () => {
  const client = clientAnswering(() => new Response("<h1>Bad Gateway</h1>", { status: 502 }));
  await assert.rejects(client.listModels(), (e: unknown) => {
    assert.ok(e instanceof SiApiError);
    assert.equal(e.status, 502);
    assert.equal(e.code, "http_502");
    assert.match(e.message, /Bad Gateway/);
    return true;
  });
});

Deno.test("scoreImages() sends nothing until iterated, and only once", async () => {
  const urls: string[] = [];
  const client = clientAnswering((req) => {
    urls.push(req.url);
    return new Response('{"summary":{"images":0}}\n');
  });
  const run = client.scoreImages("my model", [IMAGE], { loss: "max", integrate: "multiply" });
  assert.deepEqual(urls, []);
  await run.collect();
  assert.deepEqual(urls, [
    "http://x.test/v1/models/my%20model/score?loss=max&integrate=multiply",
  ]);
  await assert.rejects(run.collect(), /only once/);
});
