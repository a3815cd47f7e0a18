/**
 * Static files of the playground (`public/`) served at `/`, with content types and without
 * directory traversal: the resolved path, symlinks followed, must stay inside the root.
 * @module
 */
import { extname, join, normalize, resolve, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".woff2": "font/woff2",
};

/** Content type for a file name (application/octet-stream when unknown). */
export function contentTypeOf(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
}

/**
 * Serves `pathname` from `root`; `/` and directories map to their `index.html`.
 * Returns undefined when there is no such file (the caller answers 404).
 */
export async function serveStatic(
  root: string,
  pathname: string,
  head = false,
): Promise<Response | undefined> {
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (rel.includes("\0") || rel.split("/").includes("..")) return undefined;
  const base = resolve(root);
  let path = resolve(join(base, normalize(rel)));
  if (path !== base && !path.startsWith(base + sep)) return undefined;
  try {
    let info = await Deno.stat(path);
    if (info.isDirectory) {
      path = join(path, "index.html");
      info = await Deno.stat(path);
    }
    if (!info.isFile) return undefined;
    // A symlink inside public/ must not lead outside it.
    const real = await Deno.realPath(path);
    const realBase = await Deno.realPath(base);
    if (!real.startsWith(realBase + sep)) return undefined;
    const headers = {
      "content-type": contentTypeOf(path),
      "content-length": String(info.size),
      "x-content-type-options": "nosniff",
      "cache-control": "no-cache",
    };
    if (head) return new Response(null, { headers });
    const file = await Deno.open(path, { read: true });
    return new Response(file.readable, { headers });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw e;
  }
}
