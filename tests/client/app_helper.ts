/**
 * The real HTTP app over the fake model registry, for client and browser tests: fast and
 * deterministic (the fake model scores an image as its mean red channel / 255).
 * @module
 */
import { type Config, DEFAULT_CONFIG } from "../../src/config.ts";
import { type App, createApp } from "../../src/http/app.ts";
import type { ModelRegistry } from "../../src/models/types.ts";
import { createFakeModel, type FakeModel } from "../helpers/fake_model.ts";
import type { FakeModelOptions } from "../helpers/fake_model.ts";

/** An app instance with its fake model. */
export interface TestApp {
  readonly app: App;
  readonly model: FakeModel;
  /** A `fetch` for the client that calls the app in-process. */
  readonly fetch: (req: Request) => Promise<Response>;
  /** Makes the model appear, like a background load finishing (see `loading`). */
  finishLoading(): void;
}

/** Options of the test app beyond config and model. */
export interface TestAppOptions {
  /** Start like a service whose models are still loading: no models, not ready. */
  readonly loading?: boolean;
}

/** Creates the app; `config` overrides the defaults (public/ is served from the repo). */
export function createTestApp(
  config: Partial<Config> = {},
  modelOptions: FakeModelOptions = {},
  options: TestAppOptions = {},
): TestApp {
  const model = createFakeModel({ id: "fake", ...modelOptions });
  let loaded = !options.loading;
  // Like the service's lazy registry: empty and not ready until the load finishes.
  const registry: ModelRegistry = {
    get ready() {
      return loaded;
    },
    list: () => (loaded ? [model] : []),
    get: (id) => (loaded && id === model.id ? model : undefined),
  };
  const app = createApp({
    registry,
    config: {
      ...DEFAULT_CONFIG,
      publicDir: new URL("../../public/", import.meta.url).pathname,
      batchWaitMs: 0,
      ...config,
    },
  });
  return {
    app,
    model,
    fetch: (req) => app.handler(req),
    finishLoading: () => {
      loaded = true;
    },
  };
}
