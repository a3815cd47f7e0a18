/**
 * Service entry point: `deno task start`. Reads the configuration, starts listening at once
 * (models load in the background; /readyz is 503 until they are ready) and drains on SIGTERM/SIGINT
 * (new requests get 503 shutting_down until in-flight streams finished, then the listener closes).
 * @module
 */
import { ConfigError, loadConfig } from "./src/config.ts";
import { createApp } from "./src/http/app.ts";
import { startServer } from "./src/http/server.ts";
import { createBatcher } from "./src/serve/batcher.ts";
import { startModels } from "./src/serve/load_models.ts";
import { exitSkippingDestructors } from "./src/serve/exit_now.ts";
import { Metrics } from "./src/serve/metrics.ts";

if (import.meta.main) {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(e.message);
    Deno.exit(2);
  }
  const { registry, loaded } = startModels(config);
  loaded.then(
    () => console.log(`Models ready: ${registry.list().map((m) => m.id).join(", ") || "(none)"}`),
    (e) => console.error(`Cannot load models from "${config.modelsDir}":`, e),
  );
  const metrics = new Metrics();
  const app = createApp({ registry, config, metrics, batcher: createBatcher(config, metrics) });
  const server = startServer(app, {
    port: config.port,
    hostname: config.hostname,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    headerTimeoutMs: config.headerTimeoutS * 1000,
    idleTimeoutMs: config.idleTimeoutS * 1000,
    front: config.connectionFront,
    handleSignals: true,
    onListen: (a) => console.log(`Listening on http://${a.hostname}:${a.port}/`),
  });
  const { ended, drained } = await server.finished;
  if (ended > 0) {
    console.log(`Shut down: ${ended} request(s) ended early with "shutting_down" error lines`);
  }
  if (!drained) {
    // A scorer thread still inside onnxruntime: an ordinary exit would run onnxruntime's
    // destructors under it (exit code 139 with the native backend).
    console.error("Shut down with a batch still running: the scorer did not stop in time");
    exitSkippingDestructors(0);
  }
  if (ended === 0) console.log("Shut down cleanly");
  Deno.exit(0);
}
