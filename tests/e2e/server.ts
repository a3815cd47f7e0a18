/**
 * The service under test for browser tests: the real app (it serves public/ at `/`) over the fake
 * model registry, on a loopback port.
 * @module
 */
import type { Config } from "../../src/config.ts";
import type { FakeModelOptions } from "../helpers/fake_model.ts";
import { createTestApp, type TestApp, type TestAppOptions } from "../client/app_helper.ts";

/** A running service with one model, "fake". */
export interface TestService extends TestApp {
  /** e.g. `http://127.0.0.1:41234/` */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the app on 127.0.0.1 at a free port. */
export function startService(
  config: Partial<Config> = {},
  modelOptions: FakeModelOptions = {},
  options: TestAppOptions = {},
): TestService {
  const t = createTestApp(config, modelOptions, options);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, t.fetch);
  return {
    ...t,
    url: `http://127.0.0.1:${server.addr.port}/`,
    close: () => server.shutdown(),
  };
}
