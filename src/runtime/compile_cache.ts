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
import { sha256Hex } from "../hash.ts";

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

/** Forgets the in-memory copies (the disk entries stay); for tests and memory pressure. */
export function clearMemoryCache(): void {
  memory.clear();
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
