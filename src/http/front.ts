/**
 * The connection front: the public listener accepts TCP connections itself and forwards each one
 * byte for byte to the app's `Deno.serve`, which listens on a loopback port. Why: `Deno.serve`
 * exposes no connection, and it misses two things the service needs:
 *
 * - A client that leaves before the status line: `request.signal` only aborts when the client
 *   goes away while Deno still reads the request (measured on Deno 2.9.6: a 100-byte body was
 *   noticed, a 4 KB body never), so a dropped request was scored and counted 200. The front sees
 *   the client's end of stream and aborts the signal of the requests of that connection.
 * - Header and idle timeouts: a client that sends its headers a byte at a time (slowloris) held
 *   its connection forever. The front answers `408` and closes a connection whose request head is
 *   not complete `headerTimeoutMs` after its first byte (a new connection that sends nothing is
 *   closed `headerTimeoutMs` after it opened), and closes a keep-alive connection idle for
 *   `idleTimeoutMs` after its last answer. Body timeouts are the app's (src/http/body.ts).
 *
 * Requests are matched to their connection by the forwarding socket's local port, which is the
 * remote port `Deno.serve` reports for them.
 * @module
 */

/** Front options. */
export interface FrontOptions {
  readonly hostname: string;
  readonly port: number;
  /** Longest time from a request's first byte to the end of its head. */
  readonly headerTimeoutMs: number;
  /** Longest time a connection may sit with no request in flight and no bytes sent. */
  readonly idleTimeoutMs: number;
}

interface Conn {
  readonly client: Deno.Conn;
  readonly upstream: Deno.Conn;
  /** Aborted when the client's side ends: its requests are no longer wanted. */
  readonly gone: AbortController;
  /** Requests of this connection the app is answering. */
  inflight: number;
  /** When bytes of a request arrived while no request was in flight (its head is incomplete). */
  headSince: number | undefined;
  /** True until the client's first byte: a silent connection is closed without a 408. */
  silent: boolean;
  lastActivity: number;
  closed: boolean;
}

/** A connection with nothing forwarded for this long has no bytes left in transit. */
const QUIET_MS = 100;

const TIMEOUT_BODY = JSON.stringify({
  error: {
    code: "timeout",
    message: "Cannot read the request: its headers did not arrive in time",
  },
});

/** A running front (see the module doc). */
export class Front {
  readonly addr: Deno.NetAddr;
  readonly #listener: Deno.Listener;
  readonly #conns = new Map<number, Conn>();
  readonly #opts: FrontOptions;
  readonly #sweep: ReturnType<typeof setInterval>;
  #open = true;

  /** Listens on `options.hostname:port` and forwards to `target` (a loopback address). */
  constructor(readonly target: Deno.NetAddr, options: FrontOptions) {
    this.#opts = options;
    this.#listener = Deno.listen({ hostname: options.hostname, port: options.port });
    this.addr = this.#listener.addr as Deno.NetAddr;
    const period = Math.max(50, Math.min(1000, options.headerTimeoutMs / 4));
    this.#sweep = setInterval(() => this.#expire(), period);
    this.#accept();
  }

  /**
   * Ties a request to its connection: its signal also aborts when the client leaves, and the
   * connection counts as busy (not idle, not waiting for a head) until `completed` settles.
   */
  adopt(req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Request {
    const conn = this.#conns.get(info.remoteAddr.port);
    if (!conn) return req;
    conn.inflight++;
    conn.headSince = undefined;
    info.completed.finally(() => {
      conn.inflight--;
      conn.lastActivity = performance.now();
    }).catch(() => {});
    if (conn.gone.signal.aborted) return new Request(req, { signal: conn.gone.signal });
    return new Request(req, { signal: AbortSignal.any([req.signal, conn.gone.signal]) });
  }

  /** Open client connections (for tests and metrics). */
  get connections(): number {
    return this.#conns.size;
  }

  /**
   * Stops accepting. Open connections stay until the server behind closes them (after writing
   * its last bytes, which the front still forwards) or `closeAll()`.
   */
  stopAccepting(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#listener.close();
  }

  /**
   * Closes connections as they become quiet — no request in flight and nothing forwarded for
   * `QUIET_MS` (the server behind may report a response complete before the front has forwarded
   * its last bytes) — and resolves when none is left or after `boundMs`; then closes the rest.
   */
  async closeWhenQuiet(boundMs: number): Promise<void> {
    const end = performance.now() + boundMs;
    while (this.#conns.size > 0 && performance.now() < end) {
      const now = performance.now();
      for (const c of this.#conns.values()) {
        if (c.inflight === 0 && now - c.lastActivity > QUIET_MS) this.#close(c);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    this.closeAll();
  }

  /** Closes every connection, busy or not. */
  closeAll(): void {
    this.stopAccepting();
    clearInterval(this.#sweep);
    for (const c of this.#conns.values()) this.#close(c);
  }

  async #accept(): Promise<void> {
    try {
      for await (const client of this.#listener) this.#serve(client).catch(() => {});
    } catch {
      // The listener was closed.
    }
  }

  async #serve(client: Deno.Conn): Promise<void> {
    let upstream: Deno.Conn;
    try {
      upstream = await Deno.connect({ hostname: this.target.hostname, port: this.target.port });
    } catch {
      client.close();
      return;
    }
    const key = (upstream.localAddr as Deno.NetAddr).port;
    const conn: Conn = {
      client,
      upstream,
      gone: new AbortController(),
      inflight: 0,
      // A new connection waits for its first request head from the start (a silent client
      // counts against the header timeout too).
      headSince: performance.now(),
      silent: true,
      lastActivity: performance.now(),
      closed: false,
    };
    this.#conns.set(key, conn);
    const fromClient = pump(client, upstream, () => {
      conn.lastActivity = performance.now();
      conn.silent = false;
      if (conn.inflight === 0) conn.headSince ??= conn.lastActivity;
    });
    const toClient = pump(upstream, client, () => (conn.lastActivity = performance.now()));
    // Either side ending ends the connection: HTTP/1.1 clients do not half-close.
    await Promise.race([fromClient, toClient]);
    this.#close(conn);
    this.#conns.delete(key);
  }

  #close(conn: Conn): void {
    if (conn.closed) return;
    conn.closed = true;
    conn.gone.abort(new DOMException("The client disconnected", "AbortError"));
    for (const c of [conn.client, conn.upstream]) {
      try {
        c.close();
      } catch {
        // Already closed.
      }
    }
  }

  #expire(): void {
    const now = performance.now();
    for (const c of this.#conns.values()) {
      if (c.inflight > 0 || c.closed) continue;
      if (c.headSince !== undefined && now - c.headSince > this.#opts.headerTimeoutMs) {
        if (c.silent) {
          this.#close(c);
          continue;
        }
        // No response is in progress on this connection, so a raw 408 cannot interleave.
        const res = `HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n` +
          `connection: close\r\ncontent-length: ${TIMEOUT_BODY.length}\r\n\r\n${TIMEOUT_BODY}`;
        c.inflight++; // keeps the sweep off it until the answer is written
        c.client.write(new TextEncoder().encode(res)).catch(() => {}).finally(() => this.#close(c));
      } else if (c.headSince === undefined && now - c.lastActivity > this.#opts.idleTimeoutMs) {
        this.#close(c);
      }
    }
  }
}

/** Copies `from` to `to` until either ends; `onData` runs for every chunk. */
async function pump(from: Deno.Conn, to: Deno.Conn, onData: () => void): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const n = await from.read(buf);
      if (n === null) return;
      onData();
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
    }
  } catch {
    // A reset or a close from the other side ends the copy.
  }
}
