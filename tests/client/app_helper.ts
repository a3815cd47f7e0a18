/**
 * The real HTTP app over the fake model registry, for client and browser tests: fast and
 * deterministic (the fake model scores an image as its mean red channel / 255).
 * @module
 */
import { type Config, DEFAULT_CONFIG } from "../../src/config.ts";
import { type App, createApp } from "../../src/http/app.ts";
import { createFakeModel, createFakeRegistry, type FakeModel } from "../helpers/fake_model.ts";
import type { FakeModelOptions } from "../helpers/fake_model.ts";

/** An app instance with its fake model. */
export interface TestApp {
  readonly app: App;
  readonly model: FakeModel;
  /** A `fetch` for the client that calls the app in-process. */
  readonly fetch: (req: Request) => Promise<Response>;
}

/** Creates the app; `config` overrides the defaults (public/ is served from the repo). */
export function createTestApp(
  config: Partial<Config> = {},
  modelOptions: FakeModelOptions = {},
): TestApp {
  const model = createFakeModel({ id: "fake", ...modelOptions });
  const app = createApp({
    registry: createFakeRegistry([model]),
    config: {
      ...DEFAULT_CONFIG,
      publicDir: new URL("../../public/", import.meta.url).pathname,
      batchWaitMs: 0,
      ...config,
    },
  });
  return { app, model, fetch: (req) => app.handler(req) };
}
