/**
 * The connection front and shutdown, on a server listening on 127.0.0.1: a client that leaves
 * before the status line, header and body timeouts, and shutdown that neither waits on slow
 * clients nor cuts an admitted stream without error lines and a summary.
 * @module
 */
import assert from "node:assert/strict";
import { startServer } from "../../src/http/server.ts";
import { crc32 } from "../../deploy/lib/png.ts";
import { lines, multipart, testApp } from "./setup.ts";
import { solidPng } from "./png.ts";

const enc = new TextEncoder();

async function connect(port: number): Promise<Deno.TcpConn> {
  return await Deno.connect({ hostname: "127.0.0.1", port });
}

/** Everything the server sends until it closes the connection, or until `ms` passed. */
async function readUntilClosed(
  conn: Deno.Conn,
  ms: number,
): Promise<{ text: string; closed: boolean }> {
  const buf = new Uint8Array(4096);
  let text = "";
  const end = performance.now() + ms;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    while (performance.now() < end) {
      const late = new Promise<"late">((
        r,
      ) => (timer = setTimeout(() => r("late"), end - performance.now())));
      const n = await Promise.race([conn.read(buf).catch(() => null), late]);
      clearTimeout(timer);
      if (n === "late") return { text, closed: false };
      if (n === null) return { text, closed: true };
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return { text, closed: false };
  } finally {
    clearTimeout(timer);
  }
}

/** `png` with a `tEXt` chunk of `size` bytes after IHDR (decoders skip it). */
function paddedPng(png: Uint8Array, size: number): Uint8Array {
  const data = new Uint8Array(4 + size).fill(0x78);
  data.set(enc.encode("pad\0"));
  const chunk = new Uint8Array(12 + data.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  chunk.set(enc.encode("tEXt"), 4);
  chunk.set(data, 8);
  view.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)));
  const ihdrEnd = 8 + 25;
  const out = new Uint8Array(png.length + chunk.length);
  out.set(png.subarray(0, ihdrEnd));
  out.set(chunk, ihdrEnd);
  out.set(png.subarray(ihdrEnd), ihdrEnd + chunk.length);
  return out;
}

function imagesTotal(metrics: string, outcome: string): number {
  const m = new RegExp(`si_images_total\\{model="fake",outcome="${outcome}"\\} (\\d+)`).exec(
    metrics,
  );
  return m ? Number(m[1]) : 0;
}

Deno.test("server cancels (499, not scored) a single-image request whose client left before the status line", async () => {
  const t = testApp();
  const server = startServer(t.app, { port: 0, hostname: "127.0.0.1", shutdownTimeoutMs: 3000 });
  const release = t.model.hold();
  try {
    // A 200 KB body: Deno.serve's own request.signal never aborted for bodies of a few KB.
    const bytes = paddedPng(await solidPng(255), 200_000);
    const conn = await connect(server.addr.port);
    const head = `POST /v1/models/fake/score HTTP/1.1\r\nhost: x\r\ncontent-type: image/png\r\n` +
      `content-length: ${bytes.length}\r\n\r\n`;
    await conn.write(enc.encode(head));
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
    await t.model.started(1);
    conn.close();
    // The request is settled as cancelled while its batch is still held.
    const end = performance.now() + 3000;
    const settled = () => {
      const text = t.app.metrics.render();
      return imagesTotal(text, "cancelled") > 0 && text.includes('status="499"');
    };
    while (!settled() && performance.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
    }
    release();
    await t.app.batcher.drain();
    const text = t.app.metrics.render();
    assert.equal(imagesTotal(text, "cancelled"), 1);
    assert.equal(imagesTotal(text, "scored"), 0);
    assert.match(text, /si_http_requests_total\{route="score",status="499"\} 1/);
  } finally {
    release();
    await server.shutdown();
  }
});

Deno.test("server answers 408 and closes a connection whose headers do not arrive in time", async () => {
  const t = testApp();
  const server = startServer(t.app, {
    port: 0,
    hostname: "127.0.0.1",
    shutdownTimeoutMs: 3000,
    headerTimeoutMs: 300,
  });
  try {
    const conn = await connect(server.addr.port);
    await conn.write(enc.encode("GET /healthz HTTP/1.1\r\nhost: x\r\n"));
    const { text, closed } = await readUntilClosed(conn, 3000);
    conn.close();
    assert.ok(closed, "the connection was closed");
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.match(text, /"code":"timeout"/);
    // A normal request on a fresh connection is unaffected.
    const ok = await fetch(`http://127.0.0.1:${server.addr.port}/healthz`);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  } finally {
    await server.shutdown();
  }
});

Deno.test("handler() answers 408 for a body that does not arrive within BODY_TIMEOUT_S", async () => {
  const t = testApp({ bodyTimeoutS: 1 });
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array(10)); // then nothing more
    },
  });
  const res = await t.app.handler(
    new Request("http://localhost/v1/models/fake/score", {
      method: "POST",
      headers: { "content-type": "image/png" },
      body,
    }),
  );
  assert.equal(res.status, 408);
  assert.equal((await res.json()).error.code, "timeout");
});

Deno.test("shutdown() does not wait on a slow upload, a slowloris or an idle keep-alive client", async () => {
  const t = testApp();
  const server = startServer(t.app, { port: 0, hostname: "127.0.0.1", shutdownTimeoutMs: 10_000 });
  const port = server.addr.port;
  const slow = await connect(port);
  await slow.write(enc.encode(
    "POST /v1/models/fake/score HTTP/1.1\r\nhost: x\r\ncontent-type: image/png\r\ncontent-length: 100000\r\n\r\n0123456789",
  ));
  const loris = await connect(port);
  await loris.write(enc.encode("GET /healthz HTTP/1.1\r\nhost: x\r\n"));
  const idle = await connect(port);
  await idle.write(enc.encode("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n"));
  await readUntilClosed(idle, 300); // its response; the connection stays open (keep-alive)
  await new Promise((r) => setTimeout(r, 100)); // the upload's handler is reading its body
  const t0 = performance.now();
  await server.shutdown();
  const ms = performance.now() - t0;
  const upload = await readUntilClosed(slow, 2000);
  for (const c of [slow, loris, idle]) c.close();
  // Before, Deno's server.shutdown() waited for the upload's handler: the whole 10 s timeout.
  assert.ok(ms < 5000, `shutdown took ${ms.toFixed(0)} ms`);
  assert.match(upload.text, /^HTTP\/1\.1 503 /, "the upload is told the service is shutting down");
});

Deno.test("shutdown() ends an admitted stream with shutting_down lines and its summary when the grace runs out", async () => {
  const t = testApp({ batchMax: 1 });
  const server = startServer(t.app, { port: 0, hostname: "127.0.0.1", shutdownTimeoutMs: 1500 });
  const release = t.model.hold();
  try {
    const png = await solidPng(255);
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/v1/models/fake/score`, {
      method: "POST",
      body: multipart([0, 1, 2].map((i) => ({ name: `${i}.png`, bytes: png }))),
    });
    assert.equal(res.status, 200);
    const shut = server.shutdown();
    const got: Record<string, unknown>[] = [];
    for await (const line of lines(res.body!)) got.push(line);
    await shut;
    assert.deepEqual(
      got.map((l) =>
        (l.error as { code: string } | undefined)?.code ?? (l.summary ? "summary" : "?")
      ),
      ["shutting_down", "shutting_down", "shutting_down", "summary"],
    );
    const summary = got[3].summary as { errors: number; images: number };
    assert.equal(summary.errors, 3);
    assert.equal(summary.images, 3);
  } finally {
    release();
  }
});

Deno.test("startServer() without the front serves Deno.serve directly and still drains", async () => {
  const t = testApp();
  const server = startServer(t.app, {
    port: 0,
    hostname: "127.0.0.1",
    shutdownTimeoutMs: 2000,
    front: false,
  });
  const res = await fetch(`http://127.0.0.1:${server.addr.port}/healthz`);
  assert.equal(res.status, 200);
  await res.body?.cancel();
  assert.deepEqual(await server.shutdown(), { ended: 0, drained: true });
});

Deno.test("server closes a connection that sends nothing within the header timeout", async () => {
  const t = testApp();
  const server = startServer(t.app, {
    port: 0,
    hostname: "127.0.0.1",
    shutdownTimeoutMs: 3000,
    headerTimeoutMs: 300,
    idleTimeoutMs: 60_000,
  });
  try {
    const conn = await connect(server.addr.port);
    const { text, closed } = await readUntilClosed(conn, 3000);
    conn.close();
    assert.ok(closed, "the silent connection was closed");
    assert.equal(text, "", "without an answer: it asked nothing");
  } finally {
    await server.shutdown();
  }
});
