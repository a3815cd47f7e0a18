/**
 * Offline validation of the Deno Deploy configuration (`deno task validate:deploy`):
 * the `deploy` key of deno.json, every file the deployment needs, the environment in
 * `deploy/deno-deploy.env`, and a type check of the entrypoint against the lockfile.
 * @module
 */
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { checkServiceEnv, parseEnvFile } from "./lib/env.ts";

/** One validation result. */
export interface Finding {
  readonly ok: boolean;
  readonly check: string;
  readonly detail: string;
}

/** Options of {@link validateDenoDeploy}. */
export interface ValidateOptions {
  /**
   * Run `deno check --frozen <entrypoint> src/` (default true). All of src/ because the service
   * loads parts of itself through computed dynamic imports that a graph walk cannot follow.
   */
  readonly typeCheck?: boolean;
}

/** Largest total size of the shipped models we consider safe in a 512 MB instance. */
export const MODEL_BUDGET_BYTES = 128 * 1024 * 1024;
/** Deno Deploy's documented limit on one deployment's source + assets. */
export const DEPLOYMENT_LIMIT_BYTES = 1024 * 1024 * 1024;

interface DeployConfig {
  app?: unknown;
  org?: unknown;
  install?: unknown;
  runtime?: { mode?: unknown; entrypoint?: unknown; args?: unknown };
  include?: unknown;
  exclude?: unknown;
}

/** Validates the Deno Deploy setup of the project at `root`; never throws for a finding. */
export async function validateDenoDeploy(
  root: string,
  options: ValidateOptions = {},
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const add = (ok: boolean, check: string, detail: string) => findings.push({ ok, check, detail });

  let deploy: DeployConfig;
  try {
    const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
    deploy = config.deploy;
    if (typeof deploy !== "object" || deploy === null) throw new Error('no "deploy" object');
    add(true, "deno.json deploy", "present");
  } catch (e) {
    add(false, "deno.json deploy", (e as Error).message);
    return findings;
  }

  add(
    typeof deploy.app === "string" && /^[a-z0-9][a-z0-9-]*$/.test(deploy.app),
    "deploy.app",
    `app slug: ${JSON.stringify(deploy.app)}`,
  );
  const runtime = deploy.runtime ?? {};
  add(
    runtime.mode === "dynamic",
    "deploy.runtime.mode",
    `must be "dynamic" (a server), got ${JSON.stringify(runtime.mode)}`,
  );
  const entrypoint = typeof runtime.entrypoint === "string" ? runtime.entrypoint : "";
  add(
    await isFile(join(root, entrypoint)),
    "deploy.runtime.entrypoint",
    `${entrypoint || "(none)"} exists`,
  );
  add(
    typeof deploy.install !== "string" || /^deno install\b/.test(deploy.install),
    "deploy.install",
    `install command: ${JSON.stringify(deploy.install ?? null)}`,
  );

  const include = Array.isArray(deploy.include) ? deploy.include.map(String) : undefined;
  const exclude = Array.isArray(deploy.exclude) ? deploy.exclude.map(String) : [];
  const shipped = (rel: string) =>
    (include === undefined || include.some((p) => covers(p, rel))) &&
    !exclude.some((p) => covers(p, rel));
  if (include !== undefined) {
    for (const p of include) add(await exists(join(root, p)), "deploy.include", `${p} exists`);
  }
  if (typeof deploy.install === "string" && deploy.install.includes("--frozen")) {
    add(shipped("deno.lock"), "lockfile shipped", "--frozen installs need deno.lock uploaded");
  }

  // Every local module of the entrypoint's graph must be uploaded.
  const graph = await localModules(root, entrypoint);
  if (graph.error) add(false, "module graph", graph.error);
  else {
    const missing = graph.files.filter((f) => !shipped(f));
    add(
      missing.length === 0,
      "module graph shipped",
      missing.length === 0
        ? `${graph.files.length} local modules, all included`
        : `not included: ${missing.join(", ")}`,
    );
  }

  // Environment for the app, and the models it names.
  const envPath = join(root, "deploy/deno-deploy.env");
  let env: Record<string, string> = {};
  try {
    env = parseEnvFile(await Deno.readTextFile(envPath));
    const problems = checkServiceEnv(env);
    add(problems.length === 0, "deno-deploy.env", problems.join("; ") || "valid service settings");
    add(
      env.BACKEND === "wasm",
      "deno-deploy.env BACKEND",
      `must be wasm (no WebGPU on Deno Deploy), got ${env.BACKEND ?? "(unset: auto)"}`,
    );
  } catch (e) {
    add(false, "deno-deploy.env", (e as Error).message);
  }
  const modelsDir = (env.MODELS_DIR ?? "./models").replace(/^\.\//, "").replace(/\/$/, "");
  add(shipped(`${modelsDir}/`), "models shipped", `${modelsDir}/ is included in the upload`);
  const ids = env.MODELS && env.MODELS !== "all"
    ? env.MODELS.split(",").map((s) => s.trim())
    : await listDirs(join(root, modelsDir));
  add(
    ids.length > 0,
    "models",
    ids.length > 0 ? `serving: ${ids.join(", ")}` : `no models in ${modelsDir}/`,
  );
  let modelBytes = 0;
  for (const id of ids) {
    for (const file of ["model.onnx", "manifest.json"]) {
      const path = join(root, modelsDir, id, file);
      const stat = await Deno.stat(path).catch(() => undefined);
      add(stat?.isFile === true, "model files", `${modelsDir}/${id}/${file} exists`);
      if (file === "model.onnx") modelBytes += stat?.size ?? 0;
    }
  }
  add(
    modelBytes <= MODEL_BUDGET_BYTES,
    "model size",
    `${mb(modelBytes)} of ONNX (budget ${
      mb(MODEL_BUDGET_BYTES)
    }: a 512 MB instance also holds the gradient graphs and WASM heap)`,
  );
  if (include !== undefined) {
    let total = 0;
    for (const p of include) total += await sizeOf(join(root, p));
    add(
      total <= DEPLOYMENT_LIMIT_BYTES,
      "deployment size",
      `${mb(total)} uploaded (limit ${mb(DEPLOYMENT_LIMIT_BYTES)})`,
    );
  }

  if (options.typeCheck !== false && entrypoint) {
    const roots = [entrypoint, ...(await exists(join(root, "src")) ? ["src/"] : [])];
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--frozen", "--quiet", ...roots],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stderr).trim().split("\n").slice(0, 8).join("\n");
    add(out.success, "type check", out.success ? `deno check --frozen ${roots.join(" ")}` : text);
  }
  return findings;
}

/** Whether include/exclude pattern `p` (a file, a `dir/`, or a plain dir name) covers `rel`. */
function covers(p: string, rel: string): boolean {
  const pat = p.replace(/^\.\//, "").replace(/\/$/, "");
  return rel === pat || rel.startsWith(`${pat}/`);
}

async function localModules(
  root: string,
  entrypoint: string,
): Promise<{ files: string[]; error?: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entrypoint],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) return { files: [], error: new TextDecoder().decode(out.stderr).slice(0, 400) };
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string }[];
  };
  const files = info.modules
    .map((m) => m.specifier)
    .filter((s) => s.startsWith("file:"))
    .map((s) => relative(resolve(root), fileURLToPath(s)))
    .filter((f) => !f.startsWith("..") && !f.startsWith("node_modules/"));
  return { files: ["deno.json", ...files] };
}

async function exists(path: string): Promise<boolean> {
  return (await Deno.stat(path).catch(() => undefined)) !== undefined;
}

async function isFile(path: string): Promise<boolean> {
  return (await Deno.stat(path).catch(() => undefined))?.isFile === true;
}

async function listDirs(path: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(path)) if (e.isDirectory) out.push(e.name);
  } catch {
    // A missing models dir is reported by the caller as "no models".
  }
  return out.sort();
}

async function sizeOf(path: string): Promise<number> {
  const stat = await Deno.stat(path).catch(() => undefined);
  if (!stat) return 0;
  if (stat.isFile) return stat.size;
  let total = 0;
  for await (const e of Deno.readDir(path)) total += await sizeOf(join(path, e.name));
  return total;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

if (import.meta.main) {
  const root = Deno.args[0] ?? ".";
  const findings = await validateDenoDeploy(root);
  for (const f of findings) console.log(`${f.ok ? "ok  " : "FAIL"}  ${f.check}: ${f.detail}`);
  const failed = findings.filter((f) => !f.ok).length;
  console.log(
    failed === 0 ? "Deno Deploy config: valid" : `Deno Deploy config: ${failed} problem(s)`,
  );
  Deno.exit(failed === 0 ? 0 : 1);
}
