/**
 * A registry that exists before its models do: the server listens at once while models load;
 * `ready` stays false (readyz 503) until loading finishes.
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

/** Starts `load()` now and delegates to its registry once it resolves. */
export function lazyRegistry(load: () => Promise<ModelRegistry>): LazyRegistry {
  let inner: ModelRegistry | undefined;
  let error: unknown;
  const loaded = load().then((r) => {
    inner = r;
  }, (e) => {
    error = e;
    throw e;
  });
  return {
    loaded,
    get error() {
      return error;
    },
    get ready() {
      return inner?.ready ?? false;
    },
    list: (): readonly LoadedModel[] => inner?.list() ?? [],
    get: (id: string) => inner?.get(id),
  };
}
