import assert from "node:assert/strict";
import { checkServiceEnv, shutdownSeconds } from "../../deploy/lib/env.ts";
import { typeCheckObjects, validateObject } from "./k8s_schema.ts";
import { exists, readText, readYamlDocs } from "./helpers.ts";

const FILES = [
  "deploy/k8s/configmap.yaml",
  "deploy/k8s/service.yaml",
  "deploy/k8s/cpu.yaml",
  "deploy/k8s/gpu.yaml",
];

// deno-lint-ignore no-explicit-any
type Obj = any;

async function allObjects(): Promise<Obj[]> {
  return (await Promise.all(FILES.map(readYamlDocs))).flat();
}

function byKind(objects: Obj[], kind: string): Obj[] {
  return objects.filter((o) => o.kind === kind);
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

Deno.test("k8s manifests pass the schema check", async () => {
  const objects = await allObjects();
  assert.equal(objects.length, 8, "configmap, service, and Deployment+HPA+PDB per variant");
  for (const o of objects) {
    assert.doesNotThrow(() => validateObject(o), `${o.kind} ${o.metadata?.name}`);
  }
  // The JSON schemas catch wrong types...
  const badType = structuredClone(byKind(objects, "Deployment")[0]);
  badType.spec.template.spec.containers[0].ports[0].containerPort = "eight thousand";
  assert.throws(() => validateObject(badType), /containerPort/);
  // ...and the generated types catch unknown fields, which the JSON schemas let through.
  const typo = structuredClone(byKind(objects, "Deployment")[0]);
  const container = typo.spec.template.spec.containers[0];
  container.readinessProb = container.readinessProbe;
  delete container.readinessProbe;
  assert.doesNotThrow(() => validateObject(typo));
  const output = await typeCheckObjects(objects, [typo]);
  assert.equal(output, "", output);
});

Deno.test("k8s kustomization lists existing files and the CPU variant", async () => {
  const [k] = await readYamlDocs("deploy/k8s/kustomization.yaml");
  assert.equal(k.kind, "Kustomization");
  const resources = k.resources as string[];
  for (const r of resources) assert.ok(await exists(`deploy/k8s/${r}`), r);
  assert.deepEqual(resources.sort(), ["configmap.yaml", "cpu.yaml", "service.yaml"]);
});

Deno.test("k8s Deployments probe /readyz and /healthz and drain within the grace period", async () => {
  const objects = await allObjects();
  const config = byKind(objects, "ConfigMap")[0];
  assert.deepEqual(checkServiceEnv(config.data), []);
  const drain = shutdownSeconds(config.data);
  const dockerUser = /^USER (\d+)/m.exec(await readText("deploy/Dockerfile.cpu"))![1];

  for (const d of byKind(objects, "Deployment")) {
    const pod = d.spec.template.spec;
    const [c] = pod.containers;
    const ports = c.ports.map((p: Obj) => p.name);
    assert.equal(c.ports[0].containerPort, Number(config.data.PORT));
    assert.equal(c.readinessProbe.httpGet.path, "/readyz");
    assert.equal(c.livenessProbe.httpGet.path, "/healthz");
    // Startup waits for readiness (compilation), with room for a few minutes.
    assert.equal(c.startupProbe.httpGet.path, "/readyz");
    assert.ok(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold >= 180);
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
      assert.ok(ports.includes(probe.httpGet.port), `probe port ${probe.httpGet.port}`);
    }
    const preStop = Number(c.lifecycle.preStop.exec.command.at(-1));
    assert.ok(
      pod.terminationGracePeriodSeconds >= preStop + drain + 5,
      `${d.metadata.name}: grace ${pod.terminationGracePeriodSeconds}s < preStop ${preStop}s + drain ${drain}s + 5s`,
    );
    assert.ok(c.envFrom.some((e: Obj) => e.configMapRef?.name === config.metadata.name));
    const backend = c.env.find((e: Obj) => e.name === "BACKEND").value;
    assert.deepEqual(checkServiceEnv({ ...config.data, BACKEND: backend }), []);
    assert.ok(c.resources.requests.cpu && c.resources.requests.memory, "resource requests");
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(String(pod.securityContext.runAsUser), dockerUser, "uid matches the image's USER");
    assert.deepEqual(d.spec.selector.matchLabels, d.spec.template.metadata.labels);
  }
});

Deno.test("k8s GPU variant requests a GPU and lands on GPU nodes; CPU variant does not", async () => {
  const deployments = byKind(await allObjects(), "Deployment");
  const gpu = deployments.find((d) => d.metadata.name === "si-ood-gpu").spec.template.spec;
  const cpu = deployments.find((d) => d.metadata.name === "si-ood-cpu").spec.template.spec;
  assert.equal(gpu.containers[0].resources.limits["nvidia.com/gpu"], "1");
  assert.ok(Object.keys(gpu.nodeSelector).some((k) => k.startsWith("nvidia.com/")));
  assert.ok(gpu.tolerations.some((t: Obj) => t.key === "nvidia.com/gpu"));
  const env = Object.fromEntries(gpu.containers[0].env.map((e: Obj) => [e.name, e.value]));
  assert.equal(env.BACKEND, "webgpu");
  assert.ok(env.NVIDIA_DRIVER_CAPABILITIES.split(",").includes("graphics"));
  assert.equal(cpu.containers[0].resources.limits["nvidia.com/gpu"], undefined);
  assert.equal(cpu.nodeSelector, undefined);
});

Deno.test("k8s Service, autoscalers and disruption budgets select the Deployments' pods", async () => {
  const objects = await allObjects();
  const deployments = byKind(objects, "Deployment");
  const [service] = byKind(objects, "Service");
  for (const d of deployments) {
    const labels = d.spec.template.metadata.labels;
    assert.ok(matches(service.spec.selector, labels), `Service misses ${d.metadata.name}`);
    const ports = d.spec.template.spec.containers[0].ports.map((p: Obj) => p.name);
    assert.ok(ports.includes(service.spec.ports[0].targetPort));
  }
  for (const hpa of byKind(objects, "HorizontalPodAutoscaler")) {
    assert.equal(hpa.apiVersion, "autoscaling/v2");
    const ref = hpa.spec.scaleTargetRef;
    assert.ok(
      deployments.some((d) => d.kind === ref.kind && d.metadata.name === ref.name),
      ref.name,
    );
    assert.ok(hpa.spec.minReplicas <= hpa.spec.maxReplicas);
  }
  for (const pdb of byKind(objects, "PodDisruptionBudget")) {
    const selected = deployments.filter((d) =>
      matches(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels)
    );
    // One budget per Deployment: a budget spanning controllers only supports integer minAvailable.
    assert.equal(selected.length, 1, `${pdb.metadata.name} selects ${selected.length} Deployments`);
  }
});
