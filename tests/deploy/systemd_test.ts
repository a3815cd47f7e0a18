import assert from "node:assert/strict";
import { checkServiceEnv, parseEnvFile, shutdownSeconds } from "../../deploy/lib/env.ts";
import { readText, startTaskArgv } from "./helpers.ts";

/** `[Section]` → key → values (a key may repeat, e.g. Environment=). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const section = /^\[([A-Za-z]+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1], current);
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!kv || !current) throw new Error(`line ${i + 1}: not Key=value inside a section: ${line}`);
    current.set(kv[1], [...(current.get(kv[1]) ?? []), kv[2]]);
  }
  return sections;
}

/** systemd time span in seconds ("45", "45s", "1min 30s"). */
function span(value: string): number {
  const unit: Record<string, number> = { "": 1, s: 1, sec: 1, min: 60, m: 60, h: 3600, ms: 1e-3 };
  return [...value.matchAll(/(\d+)\s*(ms|min|sec|s|m|h|)/g)].reduce(
    (t, [, n, u]) => t + Number(n) * unit[u],
    0,
  );
}

Deno.test("systemd unit restarts on failure and stops with SIGTERM after the drain", async () => {
  const unit = parseUnit(await readText("deploy/systemd/si-ood.service"));
  assert.deepEqual([...unit.keys()], ["Unit", "Service", "Install"]);
  const svc = unit.get("Service")!;
  const one = (k: string) => {
    const v = svc.get(k);
    assert.ok(v && v.length === 1, `Service.${k} must be set once`);
    return v[0];
  };
  assert.equal(one("KillSignal"), "SIGTERM");
  assert.equal(one("Restart"), "on-failure");
  assert.ok(span(one("RestartSec")) >= 1, "no tight restart loop");
  const env = parseEnvFile(await readText("deploy/systemd/si-ood.env.example"));
  const drain = shutdownSeconds(env);
  assert.ok(
    span(one("TimeoutStopSec")) >= drain + 5,
    `TimeoutStopSec ${one("TimeoutStopSec")} does not cover SHUTDOWN_TIMEOUT_MS ${drain}s + margin`,
  );
  assert.equal(one("EnvironmentFile"), "/etc/si-ood/si-ood.env");
  assert.equal(unit.get("Install")!.get("WantedBy")?.[0], "multi-user.target");
});

Deno.test("systemd unit runs `deno task start`'s command as a hardened non-root user", async () => {
  const svc = parseUnit(await readText("deploy/systemd/si-ood.service")).get("Service")!;
  const exec = svc.get("ExecStart")![0].split(/\s+/);
  assert.ok(exec[0].startsWith("/"), "ExecStart needs an absolute path");
  assert.ok(exec[0].endsWith("/deno"));
  const task = await startTaskArgv();
  assert.deepEqual(["deno", ...exec.slice(1).filter((a) => a !== "--cached-only")], task);
  assert.ok(svc.get("User")?.[0] && svc.get("User")![0] !== "root");
  for (
    const key of [
      "NoNewPrivileges",
      "ProtectHome",
      "PrivateTmp",
      "RestrictSUIDSGID",
      "LockPersonality",
    ]
  ) {
    assert.equal(svc.get(key)?.[0], "yes", key);
  }
  assert.equal(svc.get("ProtectSystem")?.[0], "strict");
  // V8's JIT needs W+X memory: this option would crash deno.
  assert.equal(svc.get("MemoryDenyWriteExecute"), undefined);
  // Under ProtectSystem=strict, the compile cache next to the models must stay writable.
  assert.ok(svc.get("ReadWritePaths")?.[0].split(/\s+/).includes("/opt/si-ood/models"));
});

Deno.test("systemd env file example holds only valid service settings", async () => {
  const env = parseEnvFile(await readText("deploy/systemd/si-ood.env.example"));
  assert.deepEqual(checkServiceEnv(env), []);
  assert.equal(env.MODELS_DIR, "/opt/si-ood/models");
  // The checker does reject a bad value and an unknown name.
  assert.equal(checkServiceEnv({ ...env, BACKEND: "cuda" }).length, 1);
  assert.equal(checkServiceEnv({ ...env, SHUTDOWN_TIMEOUT: "5" }).length, 1);
});

Deno.test("systemd time spans and env files parse", () => {
  assert.equal(span("45"), 45);
  assert.equal(span("1min 30s"), 90);
  assert.deepEqual(parseEnvFile('# c\nA=1\nexport B="two words"\n\n'), { A: "1", B: "two words" });
  assert.throws(() => parseEnvFile("not a pair"), /KEY=value/);
});
