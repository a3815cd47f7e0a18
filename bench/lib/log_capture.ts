/**
 * Captures onnxruntime-web's log lines while a function runs.
 *
 * Why this works: under Deno the Emscripten module of onnxruntime-web runs in its Node mode and
 * writes stderr with `fs.writeSync(2, …)` on the shared `node:fs` object, so swapping that one
 * property for the duration of a call catches its log lines. onnxruntime-node logs from C++
 * straight to the process's stderr, which cannot be captured in-process.
 * @module
 */
import fs from "node:fs";

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `fn` and returns its result plus every line written to stderr through `node:fs` while it
 * ran (those lines are swallowed, not printed). Calls are serialized so captures never mix.
 */
export function captureWasmLog<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const next = queue.then(async () => {
    const lines: string[] = [];
    const original = fs.writeSync;
    const patched = (fd: number, data: unknown, ...rest: unknown[]): number => {
      if (fd === 2 && typeof data === "string") {
        lines.push(...data.split("\n").filter((l) => l.length > 0));
        return data.length;
      }
      return (original as (...a: unknown[]) => number)(fd, data, ...rest);
    };
    (fs as { writeSync: unknown }).writeSync = patched;
    try {
      return { result: await fn(), lines };
    } finally {
      // Restore only our own patch so another module's later patch is left alone.
      if ((fs as { writeSync: unknown }).writeSync === patched) {
        (fs as { writeSync: unknown }).writeSync = original;
      }
    }
  });
  queue = next.catch(() => undefined);
  return next;
}
