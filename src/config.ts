/**
 * Service configuration: environment variables → a typed, validated `Config`.
 * Every variable is documented in `docs/configuration.md`.
 * @module
 */
import { type BackendChoice, BACKENDS } from "./contract/backends.ts";
import { MODEL_ID_RE } from "./contract/model_id.ts";
import { DEFAULT_CACHE_MAX_MB } from "./contract/scoring.ts";

export type { BackendChoice };

/** The validated service configuration. */
export interface Config {
  /** TCP port (0 = any free port). */
  readonly port: number;
  /** Interface to listen on. */
  readonly hostname: string;
  /** Directory holding `<id>/model.onnx` + `manifest.json`. */
  readonly modelsDir: string;
  /** Model ids to load, or "all" for every directory in `modelsDir`. */
  readonly models: "all" | readonly string[];
  readonly backend: BackendChoice;
  /**
   * Where scoring runs: `worker` (a Worker per model, so the HTTP thread never blocks), `main`
   * (the HTTP thread), or `auto` (worker for the native backend, main otherwise).
   */
  readonly scoreThread: "auto" | "worker" | "main";
  /** Largest accepted request body, enforced while reading. */
  readonly maxBodyBytes: number;
  readonly maxImagesPerRequest: number;
  /** Largest width × height an image header may declare (checked before decoding). */
  readonly maxPixels: number;
  /** Decode worker threads; 0 decodes on the HTTP thread (default: one per core). */
  readonly decodeWorkers: number;
  /** Most estimated decoded bytes in flight over all requests; further decodes wait. */
  readonly decodeMaxBytes: number;
  /** Images admitted but not yet scored, over all requests; beyond it requests get 503. */
  readonly queueMaxImages: number;
  /**
   * Longest expected wait (measured drain rate × admitted images) before a new request's first
   * image is scored; beyond it requests get 503 with a Retry-After derived from the same rate.
   */
  readonly queueMaxWaitS: number;
  /** Scorer milliseconds per image assumed until the first batch has been measured. */
  readonly queuePriorMsPerImage: number;
  /**
   * Deadline of a scoring request (seconds from arrival), also the cap on the client's
   * `X-Request-Timeout`; images not scored by then get a `timeout` error line.
   */
  readonly requestTimeoutMaxS: number;
  /** Longest request URL (path + query) the app accepts; longer → 414. */
  readonly maxUrlBytes: number;
  /**
   * Scorer calls running at once over all models; a model runs one batch at a time, so with 2 or
   * more one model's long batch or compile leaves a lane for the others.
   */
  readonly scoreConcurrency: number;
  /**
   * Which settings a request may choose: `all` (any valid ones; new ones compile on demand) or
   * `calibrated` (a model's defaults and the settings it has a calibration for).
   */
  readonly onDemandSettings: "all" | "calibrated";
  /** Largest `iterations` (T) a request may ask for (the contract allows up to 10). */
  readonly maxIterations: number;
  /** Largest batch handed to a scorer. */
  readonly batchMax: number;
  /** How long the first image of a batch waits for others to join. */
  readonly batchWaitMs: number;
  /** Bearer token required on /v1/* and /metrics when set. */
  readonly authToken: string | undefined;
  /** Allowed CORS origins; `["*"]` allows any; empty disables CORS headers. */
  readonly corsOrigins: readonly string[];
  /**
   * How long SIGTERM waits for in-flight streams; what is unfinished shortly before it ends gets
   * `shutting_down` error lines and its summary.
   */
  readonly shutdownTimeoutMs: number;
  /** Longest time from a request's first byte to the end of its head (→ 408, connection closed). */
  readonly headerTimeoutS: number;
  /** Longest time to receive a whole request body (→ 408). */
  readonly bodyTimeoutS: number;
  /** Keep-alive connections idle this long are closed. */
  readonly idleTimeoutS: number;
  /**
   * Listen through the connection front (src/http/front.ts); `off` serves `Deno.serve` directly,
   * for platforms without raw TCP (Deno Deploy), without client-gone detection and header/idle
   * timeouts.
   */
  readonly connectionFront: boolean;
  /** Seconds sent in Retry-After with 503 not_ready / shutting_down (overloaded measures its own). */
  readonly retryAfterSeconds: number;
  /** Directory of static files served at `/` (the playground). */
  readonly publicDir: string;
  /**
   * Memory budget in MB the engines plan their runs against; undefined: 75 % of the host's
   * memory (src/engine/memory_plan.ts).
   */
  readonly memoryBudgetMb: number | undefined;
  /**
   * Most MB each model's compile cache (`<model>/.cache/`) may hold; least recently used entries
   * are removed once it is over (src/runtime/cache_prune.ts).
   */
  readonly cacheMaxMb: number;
}

/** Defaults used when a variable is unset or empty. */
export const DEFAULT_CONFIG: Config = {
  port: 8000,
  hostname: "0.0.0.0",
  modelsDir: "./models",
  models: "all",
  backend: "auto",
  scoreThread: "auto",
  maxBodyBytes: 32 * 1024 * 1024,
  maxImagesPerRequest: 64,
  maxPixels: 16_777_216,
  decodeWorkers: Math.max(1, navigator.hardwareConcurrency ?? 1),
  decodeMaxBytes: 1024 * 1024 * 1024,
  queueMaxImages: 256,
  queueMaxWaitS: 30,
  queuePriorMsPerImage: 1000,
  requestTimeoutMaxS: 120,
  maxUrlBytes: 8192,
  scoreConcurrency: 2,
  onDemandSettings: "all",
  maxIterations: 10,
  batchMax: 32,
  batchWaitMs: 5,
  authToken: undefined,
  corsOrigins: [],
  shutdownTimeoutMs: 30_000,
  headerTimeoutS: 10,
  bodyTimeoutS: 60,
  idleTimeoutS: 30,
  connectionFront: true,
  retryAfterSeconds: 1,
  publicDir: "./public",
  memoryBudgetMb: undefined,
  cacheMaxMb: DEFAULT_CACHE_MAX_MB,
};

/** Thrown by `loadConfig` with every problem found, one per line. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

type Env = (name: string) => string | undefined;

/** Typed readers of environment variables; each problem is appended to `problems`. */
function envReader(get: Env, problems: string[]) {
  const read = (name: string): string | undefined => {
    const v = get(name)?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
  return {
    read,
    int(name: string, fallback: number, min: number, max: number): number {
      const raw = read(name);
      if (raw === undefined) return fallback;
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
        problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
        return fallback;
      }
      return n;
    },
    list: (name: string): string[] | undefined =>
      read(name)?.split(",").map((s) => s.trim()).filter((s) => s !== ""),
    oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
      const raw = read(name) ?? fallback;
      if (!(allowed as readonly string[]).includes(raw)) {
        problems.push(`${name} must be one of ${allowed.join(", ")}, got "${raw}"`);
      }
      return raw as T;
    },
  };
}

/** MODELS: "all" (or unset) for every model directory, else a list of valid ids. */
function modelIds(list: string[] | undefined, problems: string[]): Config["models"] {
  if (!list || (list.length === 1 && list[0] === "all")) return DEFAULT_CONFIG.models;
  for (const id of list) {
    if (!MODEL_ID_RE.test(id)) {
      problems.push(`MODELS contains an invalid model id "${id}" (expected ${MODEL_ID_RE})`);
    }
  }
  return list;
}

/** CORS_ORIGINS: "*" or scheme://host entries. */
function corsOriginList(list: string[] | undefined, problems: string[]): string[] {
  for (const o of list ?? []) {
    if (o !== "*" && !/^https?:\/\/[^/\s]+$/.test(o)) {
      problems.push(
        `CORS_ORIGINS contains an invalid origin "${o}" (expected "*" or scheme://host)`,
      );
    }
  }
  return list ?? [];
}

/**
 * Reads the configuration from an environment (default: `Deno.env`); `overrides` win over it.
 * @throws {ConfigError} listing every invalid variable.
 */
export function loadConfig(
  env: Env | Record<string, string | undefined> = (k) => Deno.env.get(k),
  overrides: Partial<Config> = {},
): Config {
  const problems: string[] = [];
  const { read, int, list, oneOf } = envReader(
    typeof env === "function" ? env : (k) => env[k],
    problems,
  );
  const backend = oneOf<BackendChoice>("BACKEND", DEFAULT_CONFIG.backend, ["auto", ...BACKENDS]);
  const scoreThread = oneOf("SCORE_THREAD", DEFAULT_CONFIG.scoreThread, [
    "auto",
    "worker",
    "main",
  ]);
  const models = modelIds(list("MODELS"), problems);
  const onDemandSettings = oneOf("ON_DEMAND_SETTINGS", DEFAULT_CONFIG.onDemandSettings, [
    "all",
    "calibrated",
  ]);
  const corsOrigins = corsOriginList(list("CORS_ORIGINS"), problems);

  const config: Config = {
    port: int("PORT", DEFAULT_CONFIG.port, 0, 65535),
    hostname: read("HOST") ?? DEFAULT_CONFIG.hostname,
    modelsDir: read("MODELS_DIR") ?? DEFAULT_CONFIG.modelsDir,
    models,
    backend,
    scoreThread,
    maxBodyBytes: int("MAX_BODY_BYTES", DEFAULT_CONFIG.maxBodyBytes, 1, 2 ** 31),
    maxImagesPerRequest: int(
      "MAX_IMAGES_PER_REQUEST",
      DEFAULT_CONFIG.maxImagesPerRequest,
      1,
      10000,
    ),
    maxPixels: int("MAX_PIXELS", DEFAULT_CONFIG.maxPixels, 1, 2 ** 30),
    decodeWorkers: int("DECODE_WORKERS", DEFAULT_CONFIG.decodeWorkers, 0, 256),
    decodeMaxBytes: int("DECODE_MAX_BYTES", DEFAULT_CONFIG.decodeMaxBytes, 1, 2 ** 40),
    queueMaxImages: int("QUEUE_MAX_IMAGES", DEFAULT_CONFIG.queueMaxImages, 1, 1_000_000),
    queueMaxWaitS: int("QUEUE_MAX_WAIT_S", DEFAULT_CONFIG.queueMaxWaitS, 1, 86_400),
    queuePriorMsPerImage: int(
      "QUEUE_PRIOR_MS_PER_IMAGE",
      DEFAULT_CONFIG.queuePriorMsPerImage,
      1,
      3_600_000,
    ),
    requestTimeoutMaxS: int("REQUEST_TIMEOUT_MAX_S", DEFAULT_CONFIG.requestTimeoutMaxS, 1, 86_400),
    maxUrlBytes: int("MAX_URL_BYTES", DEFAULT_CONFIG.maxUrlBytes, 256, 65_000),
    scoreConcurrency: int("SCORE_CONCURRENCY", DEFAULT_CONFIG.scoreConcurrency, 1, 64),
    onDemandSettings,
    maxIterations: int("MAX_ITERATIONS", DEFAULT_CONFIG.maxIterations, 1, 10),
    batchMax: int("BATCH_MAX", DEFAULT_CONFIG.batchMax, 1, 4096),
    batchWaitMs: int("BATCH_WAIT_MS", DEFAULT_CONFIG.batchWaitMs, 0, 60_000),
    authToken: read("AUTH_TOKEN"),
    corsOrigins,
    shutdownTimeoutMs: int("SHUTDOWN_TIMEOUT_MS", DEFAULT_CONFIG.shutdownTimeoutMs, 0, 3_600_000),
    headerTimeoutS: int("HEADER_TIMEOUT_S", DEFAULT_CONFIG.headerTimeoutS, 1, 3600),
    bodyTimeoutS: int("BODY_TIMEOUT_S", DEFAULT_CONFIG.bodyTimeoutS, 1, 86_400),
    idleTimeoutS: int("IDLE_TIMEOUT_S", DEFAULT_CONFIG.idleTimeoutS, 1, 86_400),
    // Deno Deploy (DENO_DEPLOYMENT_ID set) gives no raw TCP listener: the front is off there.
    connectionFront: oneOf(
      "CONNECTION_FRONT",
      read("DENO_DEPLOYMENT_ID") === undefined ? "on" : "off",
      ["on", "off"],
    ) === "on",
    retryAfterSeconds: int("RETRY_AFTER_S", DEFAULT_CONFIG.retryAfterSeconds, 0, 3600),
    publicDir: read("PUBLIC_DIR") ?? DEFAULT_CONFIG.publicDir,
    memoryBudgetMb: read("MEMORY_BUDGET_MB") === undefined
      ? undefined
      : int("MEMORY_BUDGET_MB", 0, 64, 16 * 2 ** 20),
    cacheMaxMb: int("COMPILE_CACHE_MAX_MB", DEFAULT_CACHE_MAX_MB, 16, 16 * 2 ** 20),
    ...overrides,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
