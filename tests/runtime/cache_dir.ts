import { clearMemoryCache } from "../../src/runtime/compile_cache.ts";

/**
 * Runs `fn` with a fresh temporary directory for a compile cache, with the in-memory cache
 * cleared before and after (what a process restart looks like), and removes the directory.
 */
export async function withCacheDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "compile-cache-" });
  clearMemoryCache();
  try {
    await fn(dir);
  } finally {
    clearMemoryCache();
    await Deno.remove(dir, { recursive: true });
  }
}
