/**
 * Returns freed native heap to the operating system.
 *
 * onnxruntime-node allocates through glibc's malloc. Creating a session parses the model and
 * builds optimised copies of its weights, then frees the temporaries — but glibc keeps freed
 * memory in its arenas, so the process's RSS stays at the creation peak: for the CIFAR
 * ResNet-34's scoring graph, 852 MB after creation against 486 MB once trimmed (measured,
 * docs/performance.md "Memory budget"). `malloc_trim(0)` hands those pages back; without it a
 * memory budget would have to pay for every past peak twice.
 *
 * Only on Linux with glibc and `--allow-ffi` (which the native backend needs anyway); elsewhere
 * (musl, macOS, Deno Deploy, no permission) this is a no-op.
 * @module
 */

type Trim = () => void;
let trim: Trim | null | undefined;

function loadTrim(): Trim | null {
  if (Deno.build.os !== "linux") return null;
  try {
    // Queried first: without the permission, dlopen would prompt on a terminal.
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    const libc = Deno.dlopen("libc.so.6", {
      malloc_trim: { parameters: ["usize"], result: "i32" },
    });
    return () => void libc.symbols.malloc_trim(0n);
  } catch {
    return null; // not glibc, or no --allow-ffi
  }
}

/** Asks glibc to return freed heap pages to the OS; a no-op where that is not possible. */
export function releaseFreedHeap(): void {
  if (trim === undefined) trim = loadTrim();
  trim?.();
}
