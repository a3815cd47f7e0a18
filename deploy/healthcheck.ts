/**
 * Container health check: exits 0 when `GET /readyz` answers 2xx, else 1.
 * Used by the Dockerfiles' HEALTHCHECK, because the slim images carry no curl or wget.
 *
 * `deno run --allow-net=127.0.0.1 --allow-env=PORT deploy/healthcheck.ts [path]`
 * @module
 */

/** Checks `http://127.0.0.1:<port><path>`; resolves to the process exit code (0 healthy, 1 not). */
export async function checkHealth(
  port: number,
  path = "/readyz",
  timeoutMs = 4000,
): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    return res.ok ? 0 : 1;
  } catch {
    return 1;
  }
}

if (import.meta.main) {
  const port = Number(Deno.env.get("PORT") || 8000);
  Deno.exit(await checkHealth(port, Deno.args[0] ?? "/readyz"));
}
