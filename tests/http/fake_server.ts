/**
 * A service process over the fake model, for tests that need a real process (SIGTERM drain).
 * Prints `PORT <n>` once listening; exits 0 after a graceful shutdown.
 * Env: FAKE_DELAY_MS (per batch, default 100), SHUTDOWN_TIMEOUT_MS (default 10000).
 * @module
 */
import { DEFAULT_CONFIG } from "../../src/config.ts";
import { createApp } from "../../src/http/app.ts";
import { startServer } from "../../src/http/server.ts";
import { createFakeModel, createFakeRegistry } from "../helpers/fake_model.ts";

const model = createFakeModel({ delayMs: Number(Deno.env.get("FAKE_DELAY_MS") ?? 100) });
const config = { ...DEFAULT_CONFIG, port: 0, hostname: "127.0.0.1", batchMax: 1, batchWaitMs: 0 };
const app = createApp({ registry: createFakeRegistry([model]), config });
const server = startServer(app, {
  port: 0,
  hostname: "127.0.0.1",
  shutdownTimeoutMs: Number(Deno.env.get("SHUTDOWN_TIMEOUT_MS") ?? 10_000),
  handleSignals: true,
  onListen: (addr) => console.log(`PORT ${addr.port}`),
});
const { ended } = await server.finished;
console.log(`DRAINED ended=${ended}`);
Deno.exit(0);
