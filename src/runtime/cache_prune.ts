/**
 * A size bound on a model's on-disk cache (`<dir>/.cache/`): every request setting names its own
 * compiled graph (and, on native, onnxruntime's optimised copy of it), so without a bound a
 * service that compiles on demand fills the disk (measured: 120 → 791 MB for one model over a
 * probe's setting combinations). Entries are the files sharing a key (`<key>.onnx`,
 * `<key>.onnx.data`, `<key>.onnx.sha256`, `<key>.opt.onnx`, `<key>.json`, …); an entry's last use
 * is its newest modification time, which {@link markCacheUsed} moves to now each time the engine
 * opens it. Pruning removes the least recently used entries until the folder fits, never the
 * ones named in `keep`, and this process forgets what it remembered of the removed ones
 * (compile_cache.ts), so they are rebuilt when asked for again. Removing a file a live session was created from is safe: onnxruntime
 * has read it (or holds it open, which Linux keeps readable after unlinking).
 * @module
 */
import { join } from "node:path";
import { forgetCacheEntries } from "./compile_cache.ts";

interface Entry {
  readonly key: string;
  readonly files: string[];
  bytes: number;
  lastUsed: number;
}

/** The cache entry a file belongs to: its name up to the first dot. Temporary files have none. */
function keyOf(name: string): string | undefined {
  if (name.includes(".tmp-")) return undefined;
  const dot = name.indexOf(".");
  return dot > 0 ? name.slice(0, dot) : undefined;
}

/** The entries of a cache folder (empty when it does not exist). */
async function readEntries(cache: string): Promise<Map<string, Entry>> {
  const entries = new Map<string, Entry>();
  let listing: AsyncIterable<Deno.DirEntry>;
  try {
    listing = Deno.readDir(cache);
    for await (const f of listing) {
      const key = f.isFile ? keyOf(f.name) : undefined;
      if (key === undefined) continue;
      const info = await Deno.stat(join(cache, f.name)).catch(() => undefined);
      if (!info) continue;
      const e = entries.get(key) ?? { key, files: [], bytes: 0, lastUsed: 0 };
      e.files.push(f.name);
      e.bytes += info.size;
      e.lastUsed = Math.max(e.lastUsed, info.mtime?.getTime() ?? 0);
      entries.set(key, e);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return entries;
    throw e;
  }
  return entries;
}

/** Marks the entries of `keys` in `<dir>/.cache/` as used now (best effort: a read-only cache is fine). */
export async function markCacheUsed(dir: string, keys: readonly string[]): Promise<void> {
  const cache = join(dir, ".cache");
  const now = new Date();
  for (const e of (await readEntries(cache)).values()) {
    if (!keys.includes(e.key)) continue;
    for (const f of e.files) await Deno.utime(join(cache, f), now, now).catch(() => undefined);
  }
}

/**
 * Removes least recently used entries of `<dir>/.cache/` until it holds at most `maxBytes`,
 * keeping those named in `keep`. Returns the removed keys (oldest first).
 */
export async function pruneCache(
  dir: string,
  maxBytes: number,
  keep: readonly string[] = [],
): Promise<string[]> {
  const cache = join(dir, ".cache");
  const entries = [...(await readEntries(cache)).values()];
  let total = entries.reduce((n, e) => n + e.bytes, 0);
  const removed: string[] = [];
  const candidates = entries.filter((e) => !keep.includes(e.key))
    .sort((a, b) => a.lastUsed - b.lastUsed);
  for (const e of candidates) {
    if (total <= maxBytes) break;
    for (const f of e.files) await Deno.remove(join(cache, f)).catch(() => undefined);
    total -= e.bytes;
    removed.push(e.key);
  }
  forgetCacheEntries(dir, removed);
  return removed;
}
