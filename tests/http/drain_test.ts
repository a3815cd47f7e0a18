import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startServer } from "../../src/http/server.ts";
import { lines, multipart, ndjson, testApp } from "./setup.ts";
import { solidPng } from "./png.ts";

/** "done" if `p` settles within `ms`, else "pending" (the timer is always cleared). */
async function settle(p: Promise<unknown>, ms: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((r) => (timer = setTimeout(() => r("pending"), ms)));
  try {
    return await Promise.race([p.then(() => "done"), late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("drain() refuses new work and resolves only after in-flight streams finish", async () => {
  const t = testApp({ batchMax: 1 });
  const release = t.model.hold();
  const png = await solidPng(255);
  const res = await t.app.handler(
    new Request("http://localhost/v1/models/fake/score", {
      method: "POST",
      body: multipart([{ name: "a", bytes: png }, { name: "b", bytes: png }]),
    }),
  );
  assert.equal(res.status, 200);
  const drained = t.app.drain();
  assert.equal(await settle(drained, 30), "pending");
  assert.equal(t.app.draining, true);

  const refused = await t.app.handler(
    new Request("http://localhost/v1/models/fake/score", { method: "POST", body: png }),
  );
  assert.equal(refused.status, 503);
  assert.equal((await refused.json()).error.code, "shutting_down");
  const ready = await t.app.handler(new Request("http://localhost/readyz"));
  assert.equal(ready.status, 503);
  await ready.body?.cancel();
  const health = await t.app.handler(new Request("http://localhost/healthz"));
  assert.equal(health.status, 200);
  await health.body?.cancel();

  release();
  const out = await ndjson(res);
  assert.deepEqual(out.map((l) => l.index ?? "summary"), [0, 1, "summary"]);
  assert.equal(await settle(drained, 1000), "done");
});

Deno.test("a SIGTERM'd server process finishes its in-flight stream and exits 0", async () => {
  if (Deno.build.os === "windows") return;
  const { child, out, port, head } = await spawnFakeServer({ FAKE_DELAY_MS: "60" });
  const n = 5;
  const got = await streamThenSigterm(child, port, n);
  assert.equal(got.length, n + 1, "every line and the summary arrive after SIGTERM");
  assert.equal((got[n].summary as { scored: number }).scored, n);

  const status = await child.status;
  const rest = await readToEnd(out);
  await child.stderr.cancel();
  assert.equal(status.code, 0);
  assert.match(head + rest, /DRAINED/);
});

Deno.test("shutdown() keeps the listener open answering 503 shutting_down until streams finish", async () => {
  const t = testApp({ batchMax: 1 });
  const server = startServer(t.app, { port: 0, hostname: "127.0.0.1", shutdownTimeoutMs: 5000 });
  const base = `http://127.0.0.1:${server.addr.port}`;
  const release = t.model.hold();
  const png = await solidPng(255);
  const res = await fetch(`${base}/v1/models/fake/score`, {
    method: "POST",
    body: multipart([{ name: "a", bytes: png }, { name: "b", bytes: png }]),
  });
  assert.equal(res.status, 200);
  const shut = server.shutdown();
  assert.equal(await settle(shut, 30), "pending");

  const refused = await fetch(`${base}/v1/models/fake/score`, { method: "POST", body: png });
  assert.equal(refused.status, 503, "a new client gets an answer, not a refused connection");
  assert.equal(refused.headers.get("retry-after"), "1");
  assert.equal((await refused.json()).error.code, "shutting_down");

  release();
  assert.equal((await ndjson(res)).length, 3);
  assert.equal(await settle(shut, 2000), "done");
  await assert.rejects(fetch(`${base}/healthz`), "the listener is closed after the drain");
});

Deno.test("a SIGTERM'd server process past its grace ends the stream with shutting_down lines and a summary", async () => {
  if (Deno.build.os === "windows") return;
  const { child, out, port, head } = await spawnFakeServer({
    FAKE_DELAY_MS: "100",
    SHUTDOWN_TIMEOUT_MS: "1200",
  });
  // 64 images at 100 ms a batch of one: 6.4 s of work, far past the 1.2 s grace.
  const n = 64;
  const got = await streamThenSigterm(child, port, n);
  assert.equal(got.length, n + 1, "a line for every image, then the summary");
  const codes = got.slice(0, n).map((l) => (l.error as { code: string } | undefined)?.code);
  const cut = codes.indexOf("shutting_down");
  assert.ok(cut > 0, "some images were scored before the grace ran out");
  assert.ok(codes.slice(cut).every((c) => c === "shutting_down"), JSON.stringify(codes));
  const summary = got[n].summary as { scored: number; errors: number };
  assert.equal(summary.scored, cut);
  assert.equal(summary.errors, n - cut);
  const status = await child.status;
  const rest = await readToEnd(out);
  await child.stderr.cancel();
  assert.equal(status.code, 0);
  assert.match(head + rest, /DRAINED ended=1/);
});

/** Starts tests/http/fake_server.ts with `env`; resolves once it prints its port. */
async function spawnFakeServer(env: Record<string, string>) {
  const script = fileURLToPath(new URL("./fake_server.ts", import.meta.url));
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", script],
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/PORT (\d+)/.test(text)) {
    const { done, value } = await out.read();
    if (done) break;
    text += value;
  }
  const port = Number(/PORT (\d+)/.exec(text)?.[1]);
  assert.ok(port > 0, `no port in ${JSON.stringify(text)}`);
  return { child, out, port, head: text };
}

/** Scores `n` images on the fake server, sending SIGTERM once the first line arrives. */
async function streamThenSigterm(child: Deno.ChildProcess, port: number, n: number) {
  const png = await solidPng(255);
  const res = await fetch(`http://127.0.0.1:${port}/v1/models/fake/score`, {
    method: "POST",
    body: multipart(Array.from({ length: n }, (_, i) => ({ name: `${i}`, bytes: png }))),
  });
  const got: Record<string, unknown>[] = [];
  for await (const line of lines(res.body!)) {
    if (got.length === 0) child.kill("SIGTERM");
    got.push(line);
  }
  return got;
}

/** The rest of a text stream. */
async function readToEnd(out: ReadableStreamDefaultReader<string>): Promise<string> {
  let rest = "";
  while (true) {
    const { done, value } = await out.read();
    if (done) return rest;
    rest += value;
  }
}
