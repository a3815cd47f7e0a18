import assert from "node:assert/strict";
import { ConfigError, DEFAULT_CONFIG, loadConfig } from "../../src/config.ts";

Deno.test("loadConfig() returns the documented defaults for an empty environment", () => {
  const c = loadConfig({});
  assert.equal(c.port, 8000);
  assert.equal(c.modelsDir, "./models");
  assert.equal(c.models, "all");
  assert.equal(c.backend, "auto");
  assert.equal(c.authToken, undefined);
  assert.deepEqual(c.corsOrigins, []);
  assert.deepEqual(c, DEFAULT_CONFIG);
});

Deno.test("loadConfig() reads every variable", () => {
  const c = loadConfig({
    PORT: "9000",
    HOST: "127.0.0.1",
    MODELS_DIR: "/srv/models",
    MODELS: "fmnist-wrn40, other.v2",
    BACKEND: "native",
    SCORE_THREAD: "main",
    MAX_BODY_BYTES: "1048576",
    MAX_IMAGES_PER_REQUEST: "8",
    MAX_PIXELS: "1000000",
    DECODE_WORKERS: "3",
    DECODE_MAX_BYTES: "268435456",
    QUEUE_MAX_IMAGES: "64",
    QUEUE_MAX_WAIT_S: "12",
    QUEUE_PRIOR_MS_PER_IMAGE: "250",
    REQUEST_TIMEOUT_MAX_S: "45",
    MAX_URL_BYTES: "4096",
    SCORE_CONCURRENCY: "3",
    ON_DEMAND_SETTINGS: "calibrated",
    MAX_ITERATIONS: "4",
    BATCH_MAX: "16",
    BATCH_WAIT_MS: "0",
    AUTH_TOKEN: "s3cret",
    CORS_ORIGINS: "https://a.example,http://localhost:5173",
    SHUTDOWN_TIMEOUT_MS: "5000",
    HEADER_TIMEOUT_S: "4",
    BODY_TIMEOUT_S: "20",
    IDLE_TIMEOUT_S: "7",
    CONNECTION_FRONT: "off",
    RETRY_AFTER_S: "3",
    PUBLIC_DIR: "./www",
    MEMORY_BUDGET_MB: "1024",
    COMPILE_CACHE_MAX_MB: "512",
  });
  assert.deepEqual(c, {
    port: 9000,
    hostname: "127.0.0.1",
    modelsDir: "/srv/models",
    models: ["fmnist-wrn40", "other.v2"],
    backend: "native",
    scoreThread: "main",
    maxBodyBytes: 1048576,
    maxImagesPerRequest: 8,
    maxPixels: 1000000,
    decodeWorkers: 3,
    decodeMaxBytes: 268435456,
    queueMaxImages: 64,
    queueMaxWaitS: 12,
    queuePriorMsPerImage: 250,
    requestTimeoutMaxS: 45,
    maxUrlBytes: 4096,
    scoreConcurrency: 3,
    onDemandSettings: "calibrated",
    maxIterations: 4,
    batchMax: 16,
    batchWaitMs: 0,
    authToken: "s3cret",
    corsOrigins: ["https://a.example", "http://localhost:5173"],
    shutdownTimeoutMs: 5000,
    headerTimeoutS: 4,
    bodyTimeoutS: 20,
    idleTimeoutS: 7,
    connectionFront: false,
    retryAfterSeconds: 3,
    publicDir: "./www",
    memoryBudgetMb: 1024,
    cacheMaxMb: 512,
  });
});

Deno.test("loadConfig() treats MODELS=all and empty variables as defaults", () => {
  assert.equal(loadConfig({ MODELS: "all", PORT: "", AUTH_TOKEN: "  " }).models, "all");
  assert.equal(loadConfig({ PORT: "" }).port, 8000);
  assert.equal(loadConfig({ AUTH_TOKEN: "  " }).authToken, undefined);
});

Deno.test("loadConfig() reports every invalid variable at once with its value", () => {
  assert.throws(
    () =>
      loadConfig({
        PORT: "eighty",
        BACKEND: "cuda",
        SCORE_THREAD: "gpu",
        BATCH_MAX: "0",
        MAX_BODY_BYTES: "1.5",
        MODELS: "ok,../etc",
        CORS_ORIGINS: "example.com",
      }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.problems, [
        'BACKEND must be one of auto, native, wasm, webgpu, got "cuda"',
        'SCORE_THREAD must be one of auto, worker, main, got "gpu"',
        'MODELS contains an invalid model id "../etc" (expected /^[a-z0-9][a-z0-9._-]{0,63}$/)',
        'CORS_ORIGINS contains an invalid origin "example.com" (expected "*" or scheme://host)',
        'PORT must be an integer from 0 to 65535, got "eighty"',
        'MAX_BODY_BYTES must be an integer from 1 to 2147483648, got "1.5"',
        'BATCH_MAX must be an integer from 1 to 4096, got "0"',
      ]);
      assert.match(e.message, /^Invalid configuration:\n {2}BACKEND/);
      return true;
    },
  );
});

Deno.test("loadConfig() turns the connection front off on Deno Deploy unless asked for", () => {
  assert.equal(loadConfig({}).connectionFront, true);
  assert.equal(loadConfig({ DENO_DEPLOYMENT_ID: "abc123" }).connectionFront, false);
  assert.equal(
    loadConfig({ DENO_DEPLOYMENT_ID: "abc123", CONNECTION_FRONT: "on" }).connectionFront,
    true,
  );
  assert.equal(loadConfig({ CONNECTION_FRONT: "off" }).connectionFront, false);
});
