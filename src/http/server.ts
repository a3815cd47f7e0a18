/**
 * Runs an app on `Deno.serve` with graceful shutdown. On SIGTERM/SIGINT (or `shutdown()`) the app
 * starts draining: the listener stays open and new requests get 503 `shutting_down` (with
 * `Connection: close`) while in-flight streams finish; then the listener closes. The whole
 * shutdown is bounded by a timeout.
 * @module
 */

/** What the server needs of an app (see `createApp` in app.ts). */
export interface ServedApp {
  handler(req: Request): Promise<Response>;
  /** Starts refusing new work; resolves when in-flight work has finished. */
  drain(): Promise<void>;
}

/** Server options. */
export interface ServerOptions {
  readonly port: number;
  readonly hostname: string;
  /** Longest wait for in-flight streams on shutdown. */
  readonly shutdownTimeoutMs: number;
  /** Install SIGTERM/SIGINT handlers that call `shutdown()` (default false). */
  readonly handleSignals?: boolean;
  /** Called once the listener is bound. */
  readonly onListen?: (addr: Deno.NetAddr) => void;
}

/** A listening server. */
export interface RunningServer {
  readonly addr: Deno.NetAddr;
  /** Resolves after `shutdown()` completed (or timed out). */
  readonly finished: Promise<void>;
  /** Drains the app (listener still open, answering 503), then closes the listener. Idempotent. */
  shutdown(): Promise<void>;
}

/** Starts listening right away; models may still be loading (readyz says so). */
export function startServer(app: ServedApp, options: ServerOptions): RunningServer {
  const server = Deno.serve({
    port: options.port,
    hostname: options.hostname,
    onListen: () => {},
  }, (req) => app.handler(req));
  const addr = server.addr as Deno.NetAddr;
  options.onListen?.(addr);

  let done: Promise<void> | undefined;
  const { promise: finished, resolve } = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGTERM", "SIGINT"];
  const onSignal = () => void shutdown();

  function shutdown(): Promise<void> {
    if (done) return done;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, options.shutdownTimeoutMs)));
    // Drain first with the listener open, so new clients get a 503 rather than "connection
    // refused"; close it once in-flight work is done or the timeout passed.
    const drained = Promise.race([app.drain(), timeout]);
    done = drained
      .then(() => Promise.race([server.shutdown(), timeout]))
      .finally(() => {
        clearTimeout(timer);
        if (options.handleSignals) {
          for (const s of signals) Deno.removeSignalListener(s, onSignal);
        }
        resolve();
      });
    return done;
  }

  if (options.handleSignals) { for (const s of signals) Deno.addSignalListener(s, onSignal); }
  return { addr, finished, shutdown };
}
