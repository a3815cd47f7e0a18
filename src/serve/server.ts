/**
 * Runs an app on `Deno.serve` with graceful shutdown: on SIGTERM/SIGINT (or `shutdown()`) the app
 * refuses new work, the listener closes, in-flight streams finish (up to a timeout).
 * @module
 */
import type { App } from "../http/app.ts";

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
  /** Stops accepting, waits for in-flight work (bounded by the timeout). Idempotent. */
  shutdown(): Promise<void>;
}

/** Starts listening right away; models may still be loading (readyz says so). */
export function startServer(app: App, options: ServerOptions): RunningServer {
  const server = Deno.serve({
    port: options.port,
    hostname: options.hostname,
    onListen: () => {},
  }, app.handler);
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
    done = Promise.race([Promise.all([app.drain(), server.shutdown()]).then(() => {}), timeout])
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
