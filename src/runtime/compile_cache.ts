/**
 * A cache for compiled ONNX bytes: in memory for the process, on disk next to the model so a
 * restart does not recompile. Files live at `<dir>/.cache/<key>.onnx` (a plain ONNX file other
 * tools can open) with a sidecar `<key>.onnx.sha256` holding its length and digest.
 *
 * Writes are atomic (temp file + rename, content before sidecar), so a crash leaves either no
 * entry, an old entry, or a content file without a matching sidecar — and every entry whose
 * sidecar is missing, unreadable or does not match the bytes is treated as absent and rebuilt.
 * @module
 */
import { join } from "node:path";
import { createHash } from "node:crypto";
import { sha256Hex } from "../hash.ts";
import { type ModelProto, writeModel } from "../onnx/proto.ts";
import { externalize } from "../onnx/external_data.ts";

const memory = new Map<string, Promise<Uint8Array>>();
/** In-memory entries kept (oldest dropped first): settings from requests are unbounded. */
const MEMORY_ENTRIES = 8;
/**
 * Larger entries are not kept in memory once built: the session holds its own copy, and a
 * ResNet-34 scoring graph (164 MB) would otherwise stay resident next to it for nothing.
 */
const MEMORY_ENTRY_MAX_BYTES = 32 * 2 ** 20;

/** Keys become file names, so they are restricted to a safe alphabet. */
const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export { sha256Hex };

/**
 * The cache key of a compiled model: a digest of the source model's sha256 and a string that
 * names every setting the compilation depends on (e.g. `"si;splits=norm;T=2;loss=ce;v3"`).
 * Include a compiler version in `settingsKey` so a changed compiler never reads stale entries.
 */
export async function compileKey(modelSha256: string, settingsKey: string): Promise<string> {
  return (await sha256Hex(`${modelSha256}\n${settingsKey}`)).slice(0, 32);
}

/** {@link compileKey}, computed synchronously (for memory plans, which are synchronous). */
export function compileKeySync(modelSha256: string, settingsKey: string): string {
  return createHash("sha256").update(`${modelSha256}\n${settingsKey}`).digest("hex").slice(0, 32);
}

/**
 * Returns the cached bytes for `key` under `<dir>/.cache/`, or runs `compile`, stores its result
 * and returns it. Concurrent calls for the same entry share one compilation. A cache that cannot
 * be written (read-only model directory) only costs the disk copy; the bytes are still returned.
 */
export function getOrCompile(
  key: string,
  dir: string,
  compile: () => Promise<Uint8Array>,
): Promise<Uint8Array> {
  if (!KEY.test(key)) throw new RangeError(`Invalid compile cache key "${key}"`);
  const path = join(dir, ".cache", `${key}.onnx`);
  let entry = memory.get(path);
  if (!entry) {
    entry = loadOrBuild(path, compile);
    memory.set(path, entry);
    entry.then(
      (bytes) => {
        if (bytes.length > MEMORY_ENTRY_MAX_BYTES && memory.get(path) === entry) {
          memory.delete(path);
        }
      },
      () => memory.delete(path),
    );
    while (memory.size > MEMORY_ENTRIES) memory.delete(memory.keys().next().value!);
  }
  return entry;
}

/**
 * Forgets what this process remembers of the entries `keys` under `<dir>/.cache/` (their bytes,
 * or that their files are valid): called when they were removed from disk (cache_prune.ts), so
 * the next caller rebuilds them instead of being handed a path that is gone.
 */
export function forgetCacheEntries(dir: string, keys: readonly string[]): void {
  for (const key of keys) {
    const path = join(dir, ".cache", `${key}.onnx`);
    memory.delete(path);
    files.delete(path);
  }
}

/** Forgets the in-memory copies (the disk entries stay); for tests and memory pressure. */
export function clearMemoryCache(): void {
  memory.clear();
  files.clear();
}

async function loadOrBuild(path: string, compile: () => Promise<Uint8Array>) {
  const cached = await readEntry(path);
  if (cached) return cached;
  const bytes = await compile();
  try {
    await writeEntry(path, bytes);
  } catch (e) {
    console.warn(`Compile cache: cannot write ${path}: ${(e as Error).message}`);
  }
  return bytes;
}

interface Sidecar {
  readonly bytes: number;
  readonly sha256: string;
}

async function readEntry(path: string): Promise<Uint8Array | undefined> {
  let bytes: Uint8Array, side: Sidecar;
  try {
    [bytes, side] = await Promise.all([
      Deno.readFile(path),
      Deno.readTextFile(`${path}.sha256`).then((t) => JSON.parse(t) as Sidecar),
    ]);
  } catch {
    return undefined; // absent or unreadable: rebuild
  }
  if (bytes.length !== side?.bytes || (await sha256Hex(bytes)) !== side.sha256) return undefined;
  return bytes;
}

async function writeEntry(path: string, bytes: Uint8Array): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  const side: Sidecar = { bytes: bytes.length, sha256: await sha256Hex(bytes) };
  await atomicWrite(path, bytes);
  await atomicWrite(`${path}.sha256`, new TextEncoder().encode(JSON.stringify(side) + "\n"));
}

async function atomicWrite(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => undefined);
    throw e;
  }
}

/** Paths of compiled-file entries being built or verified in this process. */
const files = new Map<string, Promise<string | ModelProto | Uint8Array>>();
/** Entries of `files` kept (oldest dropped first). */
const FILE_ENTRIES = 64;

/**
 * Like {@link getOrCompile}, but the entry is a graph file `<key>.onnx` plus its external data
 * `<key>.onnx.data` (src/onnx/external_data.ts), and the result is the graph file's path: a
 * session created from it never has the serialized model in JavaScript, and onnxruntime-node maps
 * the weights instead of parsing a copy. The sidecar holds both files' lengths and digests; the
 * data file is hashed in 1 MiB pieces, so verifying a large entry costs no memory.
 *
 * `build` compiles AND writes the entry (with {@link writeCompiledFile}, e.g. in a compile
 * worker): it is called with the graph file's path when the entry is absent or invalid, and
 * returns that path, or what the caller gets instead when the files could not be written
 * (read-only model directory; then not remembered, so the next caller retries). Concurrent calls
 * for the same entry share one build.
 */
export function getOrBuildFile<T extends ModelProto | Uint8Array>(
  key: string,
  dir: string,
  build: (path: string) => Promise<string | T>,
): Promise<string | T> {
  if (!KEY.test(key)) throw new RangeError(`Invalid compile cache key "${key}"`);
  const path = join(dir, ".cache", `${key}.onnx`);
  let entry = files.get(path) as Promise<string | T> | undefined;
  if (!entry) {
    entry = (async () => {
      if (await fileEntryValid(path)) return path;
      const built = await build(path);
      if (built !== path) files.delete(path); // not cached: the next caller retries the write
      return built;
    })();
    files.set(path, entry);
    entry.catch(() => files.delete(path));
    while (files.size > FILE_ENTRIES) files.delete(files.keys().next().value!);
  }
  return entry;
}

/**
 * Writes `model` as the compiled-file entry at `path` (graph file, external data, sidecar) and
 * returns `path`; when the files cannot be written, warns and returns the model itself.
 */
export async function writeCompiledFile(
  path: string,
  model: ModelProto,
): Promise<string | ModelProto> {
  try {
    await writeFileEntry(path, model);
    return path;
  } catch (e) {
    console.warn(`Compile cache: cannot write ${path}: ${(e as Error).message}`);
    return model;
  }
}

interface FileSidecar extends Sidecar {
  readonly dataBytes: number;
  readonly dataSha256: string;
}

async function fileEntryValid(path: string): Promise<boolean> {
  try {
    const side = JSON.parse(await Deno.readTextFile(`${path}.sha256`)) as FileSidecar;
    const graph = await Deno.readFile(path);
    if (graph.length !== side.bytes || (await sha256Hex(graph)) !== side.sha256) return false;
    const data = await hashFile(`${path}.data`);
    return data.bytes === side.dataBytes && data.sha256 === side.dataSha256;
  } catch {
    return false; // absent or unreadable: rebuild
  }
}

async function hashFile(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  const buf = new Uint8Array(2 ** 20);
  let bytes = 0;
  using file = await Deno.open(path);
  for (let n = await file.read(buf); n !== null; n = await file.read(buf)) {
    hash.update(buf.subarray(0, n));
    bytes += n;
  }
  return { bytes, sha256: hash.digest("hex") };
}

async function writeFileEntry(path: string, model: ModelProto): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  const name = path.split(/[/\\]/).pop()!;
  const ext = externalize(model, `${name}.data`);
  const tmp = `${path}.data.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const hash = createHash("sha256");
  try {
    {
      using file = await Deno.open(tmp, { write: true, create: true, truncate: true });
      let at = 0;
      const put = async (bytes: Uint8Array) => {
        for (let w = 0; w < bytes.length;) w += await file.write(bytes.subarray(w));
        hash.update(bytes);
        at += bytes.length;
      };
      for (const block of ext.blocks) {
        if (block.offset > at) await put(new Uint8Array(block.offset - at));
        await put(block.bytes);
      }
    } // closed before the rename (Windows cannot rename an open file)
    await Deno.rename(tmp, `${path}.data`);
  } catch (e) {
    await Deno.remove(tmp).catch(() => undefined);
    throw e;
  }
  const graph = writeModel(ext.model);
  const side: FileSidecar = {
    bytes: graph.length,
    sha256: await sha256Hex(graph),
    dataBytes: ext.dataBytes,
    dataSha256: hash.digest("hex"),
  };
  await atomicWrite(path, graph);
  await atomicWrite(`${path}.sha256`, new TextEncoder().encode(JSON.stringify(side) + "\n"));
}

/**
 * A small JSON entry `<dir>/.cache/<key>.json` (facts derived from a model, such as its tensor
 * shapes), or undefined when it is absent or unreadable. The entry repeats its key, so a file
 * from another key (or a torn copy) is never taken for it.
 */
export async function readJsonEntry<T>(key: string, dir: string): Promise<T | undefined> {
  if (!KEY.test(key)) throw new RangeError(`Invalid compile cache key "${key}"`);
  try {
    const entry = JSON.parse(await Deno.readTextFile(join(dir, ".cache", `${key}.json`)));
    return entry?.key === key ? entry.value as T : undefined;
  } catch {
    return undefined; // absent or unreadable: rebuild
  }
}

/**
 * Writes a JSON entry atomically (see {@link readJsonEntry}); a cache that cannot be written
 * only warns, since the value is still in hand.
 */
export async function writeJsonEntry(key: string, dir: string, value: unknown): Promise<void> {
  if (!KEY.test(key)) throw new RangeError(`Invalid compile cache key "${key}"`);
  const path = join(dir, ".cache", `${key}.json`);
  try {
    await Deno.mkdir(join(dir, ".cache"), { recursive: true });
    await atomicWrite(path, new TextEncoder().encode(JSON.stringify({ key, value })));
  } catch (e) {
    console.warn(`Compile cache: cannot write ${path}: ${(e as Error).message}`);
  }
}
