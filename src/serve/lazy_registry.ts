/**
 * A registry that exists before its models do: the server listens at once while models load;
 * `ready` stays false (readyz 503) until loading finishes. Models that finished loading are
 * served while the others still load.
 * @module
 */
import type { LoadedModel, ModelRegistry } from "../models/types.ts";

/** A registry filled by a background load. */
export interface LazyRegistry extends ModelRegistry {
  /** Settles when the load finished (rejects with its error). */
  readonly loaded: Promise<void>;
  /** The load error, if loading failed. */
  readonly error: unknown;
}

/** What a background load provides: a registry as soon as one exists, and its completion. */
export interface StartedLoad {
  readonly registry: ModelRegistry;
  readonly loaded: Promise<void>;
}

/** Starts `start()` now and delegates to its registry once there is one. */
export function lazyRegistry(start: () => Promise<StartedLoad>): LazyRegistry {
  let inner: ModelRegistry | undefined;
  let done = false;
  let error: unknown;
  const loaded = start().then(async (s) => {
    inner = s.registry;
    await s.loaded;
    done = true;
  }).catch((e) => {
    error = e;
    throw e;
  });
  return {
    loaded,
    get error() {
      return error;
    },
    get ready() {
      return done && (inner?.ready ?? false);
    },
    list: (): readonly LoadedModel[] => inner?.list() ?? [],
    get: (id: string) => inner?.get(id),
  };
}
