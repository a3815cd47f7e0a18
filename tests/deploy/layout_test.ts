import assert from "node:assert/strict";
import { copySources, parseDockerfile } from "../../deploy/lib/dockerfile.ts";
import { formatReport, runSmoke } from "../../deploy/smoke.ts";
import { rebuildLayout } from "./layout.ts";
import { readText } from "./helpers.ts";

/** How long to wait for /readyz before settling for the health-only smoke check. */
const READY_WAIT_MS = 25_000;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitFor(url: string, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  let status = 0;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      status = res.status;
      if (res.ok) return status;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return status;
}

Deno.test("both Dockerfiles copy the same service layout", async () => {
  const layout = async (f: string) =>
    parseDockerfile(await readText(f)).flatMap((i) => i.keyword === "COPY" ? copySources(i) : [])
      .filter((s) => !s.startsWith("deploy/docker/"));
  assert.deepEqual(await layout("deploy/Dockerfile"), await layout("deploy/Dockerfile.cpu"));
});

Deno.test({
  name: "service runs from the exact layout the Dockerfile copies and drains on SIGTERM",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "si-ood-image-" });
    let child: Deno.ChildProcess | undefined;
    try {
      // The CPU image: its native backend runs on any machine, GPU or not.
      const layout = await rebuildLayout(
        parseDockerfile(await readText("deploy/Dockerfile.cpu")),
        dir,
      );
      const port = freePort();
      const env = { ...layout.env, PORT: String(port), HOST: "127.0.0.1" };
      assert.equal(layout.cmd[0], "deno");
      child = new Deno.Command(Deno.execPath(), {
        args: layout.cmd.slice(1),
        cwd: dir,
        env,
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const logs = Promise.all([child.stdout, child.stderr].map((s) => new Response(s).text()));
      const base = `http://127.0.0.1:${port}`;

      assert.equal(await waitFor(`${base}/healthz`, 20_000), 200, "no /healthz within 20 s");
      const ready = (await waitFor(`${base}/readyz`, READY_WAIT_MS)) === 200;
      const report = await runSmoke({ baseUrl: base, allowNotReady: true, timeoutMs: 30_000 });
      assert.equal(report.ok, true, formatReport(report));
      if (report.ready) {
        assert.ok(report.checks.every((c) => c.status === "pass"), formatReport(report));
      } else {
        console.log(`not ready within ${READY_WAIT_MS / 1000} s: scored smoke checks SKIPPED`);
      }

      // The image's HEALTHCHECK command, run in the image layout, agrees with /readyz.
      const hc = await new Deno.Command(Deno.execPath(), {
        args: layout.healthcheck.slice(1),
        cwd: dir,
        env,
        stdout: "null",
        stderr: "null",
      }).output();
      assert.equal(hc.code, report.ready || ready ? 0 : 1);

      child.kill("SIGTERM");
      const status = await child.status;
      const [out, err] = await logs;
      child = undefined;
      assert.equal(status.code, 0, `exit ${status.code} after SIGTERM\n${out}\n${err}`);
    } finally {
      if (child) {
        // It may have exited on its own (a crash): the assertion that failed says why, so a kill
        // of a finished process must not replace that error.
        try {
          child.kill("SIGKILL");
        } catch { /* already exited */ }
        await child.status;
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
});
