/**
 * Service entry point: `deno task start`. Reads the configuration, starts listening at once
 * (models load in the background; /readyz is 503 until they are ready) and drains on SIGTERM/SIGINT.
 * @module
 */
import { ConfigError, loadConfig } from "./src/config.ts";
import { createApp } from "./src/http/app.ts";
import { lazyRegistry } from "./src/serve/lazy_registry.ts";
import { startModels } from "./src/serve/load_models.ts";
import { startServer } from "./src/serve/server.ts";

if (import.meta.main) {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(e.message);
    Deno.exit(2);
  }
  const registry = lazyRegistry(() => startModels(config));
  registry.loaded.then(
    () => console.log(`Models ready: ${registry.list().map((m) => m.id).join(", ") || "(none)"}`),
    (e) => console.error(`Cannot load models from "${config.modelsDir}":`, e),
  );
  const app = createApp({ registry, config });
  const server = startServer(app, {
    port: config.port,
    hostname: config.hostname,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    handleSignals: true,
    onListen: (a) => console.log(`Listening on http://${a.hostname}:${a.port}/`),
  });
  await server.finished;
  console.log("Shut down cleanly");
  Deno.exit(0);
}
