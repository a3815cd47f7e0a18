/**
 * Runs an app behind the connection front (front.ts) with graceful shutdown. On SIGTERM/SIGINT
 * (or `shutdown()`) the app starts draining: the listener stays open and new requests get 503
 * `shutting_down` (with `Connection: close`) while in-flight streams finish. Work still unfinished
 * when the grace period is nearly over is ended by the app (`abort()`: its images get
 * `shutting_down` error lines and every stream its summary), then every connection is closed,
 * idle or slow ones included, so shutdown never waits on a client.
 * @module
 */
import { Front } from "./front.ts";

/** What the server needs of an app (see `createApp` in app.ts). */
export interface ServedApp {
  handler(req: Request): Promise<Response>;
  /** Starts refusing new work; resolves when in-flight work has finished. */
  drain(): Promise<void>;
  /** Ends in-flight work now (error lines, summaries); `drain()` then resolves soon. */
  abort?(): number;
}

/** Server options. */
export interface ServerOptions {
  readonly port: number;
  readonly hostname: string;
  /** Longest wait for in-flight streams on shutdown, their final lines included. */
  readonly shutdownTimeoutMs: number;
  /** Longest time from a request's first byte to the end of its head (default 10 s). */
  readonly headerTimeoutMs?: number;
  /** Keep-alive connections idle this long are closed (default 30 s). */
  readonly idleTimeoutMs?: number;
  /**
   * Listen through the connection front (default true). `false` serves `Deno.serve` directly, for
   * platforms without raw TCP (Deno Deploy): no client-gone detection, no header/idle timeouts.
   */
  readonly front?: boolean;
  /** Install SIGTERM/SIGINT handlers that call `shutdown()` (default false). */
  readonly handleSignals?: boolean;
  /** Called once the listener is bound. */
  readonly onListen?: (addr: Deno.NetAddr) => void;
}

/** How a shutdown went. */
export interface ShutdownReport {
  /** Requests ended with `shutting_down` lines because the grace period ran out. */
  readonly ended: number;
  /** False when in-flight work (a running batch) had still not finished at exit. */
  readonly drained: boolean;
}

/** A listening server. */
export interface RunningServer {
  readonly addr: Deno.NetAddr;
  /** Resolves after `shutdown()` completed (or timed out). */
  readonly finished: Promise<ShutdownReport>;
  /** Drains the app (listener still open, answering 503), then closes the listener. Idempotent. */
  shutdown(): Promise<ShutdownReport>;
}

/**
 * How the grace period is shared: streams may finish on their own until `drainMs`; then what is
 * left is ended (error lines) and gets `flushMs` to be written; connections get `closeMs` to
 * close. The three add up to the grace period, so shutdown never overruns it.
 */
export function shutdownPhases(shutdownTimeoutMs: number) {
  const flushMs = Math.min(2000, shutdownTimeoutMs / 4);
  const closeMs = Math.min(1500, shutdownTimeoutMs / 4);
  return { drainMs: shutdownTimeoutMs - flushMs - closeMs, flushMs, closeMs };
}

/** Resolves true when `p` settles within `ms`, else false (the timer is always cleared). */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The listening side: Deno's server, and the front when there is one. */
interface Listening {
  readonly addr: Deno.NetAddr;
  readonly server: Deno.HttpServer<Deno.NetAddr>;
  readonly front?: Front;
}

/** `Deno.serve` on a loopback port behind the front (front.ts), or alone without it. */
function listen(app: ServedApp, options: ServerOptions): Listening {
  if (options.front === false) {
    const server = Deno.serve(
      { port: options.port, hostname: options.hostname, onListen: () => {} },
      (req) => app.handler(req),
    );
    return { addr: server.addr, server };
  }
  // Only the front connects to this loopback listener, so `front` exists before any request.
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    (req, info): Promise<Response> => app.handler(front.adopt(req, info)),
  );
  const front: Front = new Front(server.addr, {
    hostname: options.hostname,
    port: options.port,
    headerTimeoutMs: options.headerTimeoutMs ?? 10_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
  });
  return { addr: front.addr, server, front };
}

/** Starts listening right away; models may still be loading (readyz says so). */
export function startServer(app: ServedApp, options: ServerOptions): RunningServer {
  const { addr, server, front } = listen(app, options);
  options.onListen?.(addr);

  let done: Promise<ShutdownReport> | undefined;
  const { promise: finished, resolve } = Promise.withResolvers<ShutdownReport>();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGTERM", "SIGINT"];
  const onSignal = () => void shutdown();

  async function stop(): Promise<ShutdownReport> {
    const { drainMs, flushMs, closeMs } = shutdownPhases(options.shutdownTimeoutMs);
    // Drain first with the listener open, so new clients get a 503 rather than "connection
    // refused"; what has not finished after `drainMs` is ended with error lines.
    let ended = 0;
    let drained = await within(app.drain(), drainMs);
    if (!drained) {
      ended = app.abort?.() ?? 0;
      drained = await within(app.drain(), flushMs);
    }
    // Connections with nothing in flight and nothing in transit (idle keep-alive, a slowloris
    // head, an upload already answered 503) are closed at once: Deno's server would wait for them.
    front?.stopAccepting();
    const serverDone = server.shutdown();
    if (front) await front.closeWhenQuiet(closeMs * 0.8);
    await within(serverDone, front ? closeMs * 0.2 : closeMs);
    return { ended, drained };
  }

  function shutdown(): Promise<ShutdownReport> {
    done ??= stop().then((report) => {
      if (options.handleSignals) {
        for (const s of signals) Deno.removeSignalListener(s, onSignal);
      }
      resolve(report);
      return report;
    });
    return done;
  }

  if (options.handleSignals) { for (const s of signals) Deno.addSignalListener(s, onSignal); }
  return { addr, finished, shutdown };
}
