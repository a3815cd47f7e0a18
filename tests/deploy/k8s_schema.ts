/**
 * Schema checks of Kubernetes objects, offline, with two independent tools from npm:
 * kubernetes-models (JSON-schema validators generated from the Kubernetes OpenAPI spec: types,
 * required fields, formats) and kubernetes-types (TypeScript types generated from the same spec,
 * used through `deno check` to reject unknown or misspelt fields, which the JSON schemas allow).
 * @module
 */
import { join } from "node:path";
import { Deployment } from "kubernetes-models/apps/v1";
import { ConfigMap, Service } from "kubernetes-models/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ROOT } from "./helpers.ts";

interface Kind {
  readonly validate: (obj: Record<string, unknown>) => void;
  /** Module of kubernetes-types and the type name in it. */
  readonly types: readonly [string, string];
}

/** The kinds the manifests may use, keyed by `apiVersion kind`. (`as never`: the YAML is untyped
 * until the validator has looked at it.) */
export const KINDS: Readonly<Record<string, Kind>> = {
  "apps/v1 Deployment": {
    validate: (o) => new Deployment(o as never).validate(),
    types: ["kubernetes-types/apps/v1.d.ts", "Deployment"],
  },
  "v1 Service": {
    validate: (o) => new Service(o as never).validate(),
    types: ["kubernetes-types/core/v1.d.ts", "Service"],
  },
  "v1 ConfigMap": {
    validate: (o) => new ConfigMap(o as never).validate(),
    types: ["kubernetes-types/core/v1.d.ts", "ConfigMap"],
  },
  "autoscaling/v2 HorizontalPodAutoscaler": {
    validate: (o) => new HorizontalPodAutoscaler(o as never).validate(),
    types: ["kubernetes-types/autoscaling/v2.d.ts", "HorizontalPodAutoscaler"],
  },
  "policy/v1 PodDisruptionBudget": {
    validate: (o) => new PodDisruptionBudget(o as never).validate(),
    types: ["kubernetes-types/policy/v1.d.ts", "PodDisruptionBudget"],
  },
};

/** Throws unless `obj` is a known kind that passes its JSON schema. */
export function validateObject(obj: Record<string, unknown>): void {
  const key = `${obj.apiVersion} ${obj.kind}`;
  const kind = KINDS[key];
  if (!kind) throw new Error(`Unexpected kind "${key}"`);
  kind.validate(obj);
}

/**
 * Type-checks objects against kubernetes-types with `deno check`. `expectErrors` objects are
 * marked `@ts-expect-error`, so the run fails if they were accepted: proof the check bites.
 * Returns `deno check`'s output when it fails, else "".
 */
export async function typeCheckObjects(
  objects: readonly Record<string, unknown>[],
  expectErrors: readonly Record<string, unknown>[] = [],
): Promise<string> {
  const imports = new Map<string, Set<string>>();
  const lines: string[] = [];
  const add = (obj: Record<string, unknown>, i: number, bad: boolean) => {
    const kind = KINDS[`${obj.apiVersion} ${obj.kind}`];
    if (!kind) throw new Error(`Unexpected kind "${obj.apiVersion} ${obj.kind}"`);
    const [mod, type] = kind.types;
    if (!imports.has(mod)) imports.set(mod, new Set());
    imports.get(mod)!.add(type);
    if (bad) lines.push("// @ts-expect-error a deliberately broken object must be rejected");
    lines.push(`export const o${i}: ${type} = ${JSON.stringify(obj)};`);
  };
  objects.forEach((o, i) => add(o, i, false));
  expectErrors.forEach((o, i) => add(o, objects.length + i, true));
  const head = [...imports].map(([mod, types]) =>
    `import type { ${[...types].join(", ")} } from "${mod}";`
  );
  const dir = await Deno.makeTempDir({ prefix: "k8s-types-" });
  const file = join(dir, "manifests.ts");
  try {
    // JSON.stringify puts each object on one line, so @ts-expect-error covers all of it.
    await Deno.writeTextFile(file, [...head, ...lines].join("\n") + "\n");
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--config", join(ROOT, "deno.json"), file],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    return out.success ? "" : new TextDecoder().decode(out.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
