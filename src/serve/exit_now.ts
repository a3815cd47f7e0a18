/**
 * Process exit while a scorer thread may still be inside onnxruntime. `Deno.exit` runs the
 * process's exit handlers and static destructors, onnxruntime's included, under the thread still
 * using them: with the native backend a shutdown whose batch had not stopped (a compile of new
 * settings does not honour the abort signal; measured 40 s after the abort) ended with exit code
 * 139 (SIGSEGV). libc's `_exit` ends the process without running them.
 * @module
 */

/** Exits with `code` through libc's `_exit` where possible (Linux, glibc, `--allow-ffi`). */
export function exitSkippingDestructors(code: number): never {
  if (Deno.build.os === "linux") {
    try {
      // Queried first: without the permission, dlopen would prompt on a terminal.
      if (Deno.permissions.querySync({ name: "ffi" }).state === "granted") {
        const libc = Deno.dlopen("libc.so.6", {
          _exit: { parameters: ["i32"], result: "void" },
        });
        libc.symbols._exit(code);
      }
    } catch {
      // Not glibc, or no permission: the ordinary exit below.
    }
  }
  Deno.exit(code);
}
