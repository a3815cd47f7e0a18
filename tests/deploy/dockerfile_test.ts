import assert from "node:assert/strict";
import {
  copySources,
  envOf,
  execForm,
  type Instruction,
  parseDockerfile,
  splitFlags,
} from "../../deploy/lib/dockerfile.ts";
import { checkServiceEnv } from "../../deploy/lib/env.ts";
import { checkHealth } from "../../deploy/healthcheck.ts";
import { exists, readText, startTaskArgv } from "./helpers.ts";

const VARIANTS = [
  { file: "deploy/Dockerfile", backend: "webgpu" },
  { file: "deploy/Dockerfile.cpu", backend: "native" },
] as const;

// Variables the images set for Deno, the NVIDIA runtime or the loader, not for the service.
const NON_SERVICE_ENV = [
  "DENO_DIR",
  "DENO_NO_UPDATE_CHECK",
  "NVIDIA_VISIBLE_DEVICES",
  "NVIDIA_DRIVER_CAPABILITIES",
  "XDG_RUNTIME_DIR",
];

async function load(file: string): Promise<Instruction[]> {
  return parseDockerfile(await readText(file));
}

/** Instructions of the last (runtime) stage only. */
function finalStage(all: Instruction[]): Instruction[] {
  const from = all.map((i) => i.keyword).lastIndexOf("FROM");
  return all.slice(from);
}

Deno.test("Dockerfiles run as a non-root user and COPY only paths that exist", async () => {
  for (const { file } of VARIANTS) {
    const stage = finalStage(await load(file));
    const users = stage.filter((i) => i.keyword === "USER").map((i) => i.args.split(":")[0]);
    assert.ok(users.length > 0, `${file}: no USER in the final stage`);
    assert.ok(!["root", "0"].includes(users.at(-1)!), `${file}: runs as ${users.at(-1)}`);
    // The CMD must come after USER, or it would run as root.
    const lastUser = stage.findLastIndex((i) => i.keyword === "USER");
    assert.ok(stage.findIndex((i) => i.keyword === "CMD") > lastUser, `${file}: CMD before USER`);

    const copies = (await load(file)).filter((i) => i.keyword === "COPY" || i.keyword === "ADD");
    assert.ok(copies.length >= 5, `${file}: expected the service files to be copied`);
    for (const copy of copies) {
      for (const src of copySources(copy)) {
        assert.ok(await exists(src), `${file}:${copy.line}: COPY source ${src} does not exist`);
      }
    }
  }
});

Deno.test("Dockerfiles copy everything the service needs and nothing their .dockerignore drops", async () => {
  for (const { file } of VARIANTS) {
    const sources = (await load(file)).flatMap((i) => i.keyword === "COPY" ? copySources(i) : []);
    for (const needed of ["deno.json", "deno.lock", "main.ts", "src/", "models/", "public/"]) {
      assert.ok(sources.includes(needed), `${file} does not copy ${needed}`);
    }
    // The ignore files are "ignore all, then re-include": each source must be re-included.
    const ignore = (await readText(`${file}.dockerignore`)).split("\n").map((l) => l.trim());
    assert.equal(ignore.find((l) => l && !l.startsWith("#")), "**");
    const kept = ignore.filter((l) => l.startsWith("!")).map((l) => l.slice(1));
    for (const src of sources) {
      assert.ok(
        kept.some((k) => src === k || src.startsWith(k)),
        `${file}: ${src} is excluded by ${file}.dockerignore`,
      );
    }
  }
});

Deno.test("Dockerfiles start the service like `deno task start` and stop it with SIGTERM", async () => {
  const task = await startTaskArgv();
  for (const { file, backend } of VARIANTS) {
    const stage = finalStage(await load(file));
    const cmd = execForm(stage.findLast((i) => i.keyword === "CMD")!.args);
    assert.ok(cmd, `${file}: CMD must be exec form so SIGTERM reaches deno, not a shell`);
    assert.deepEqual(cmd.filter((a) => a !== "--cached-only"), task);
    assert.equal(stage.findLast((i) => i.keyword === "STOPSIGNAL")?.args, "SIGTERM");

    const env = envOf(stage);
    assert.equal(env.BACKEND, backend);
    const serviceEnv = Object.fromEntries(
      Object.entries(env).filter(([k]) => !NON_SERVICE_ENV.includes(k)),
    );
    assert.deepEqual(checkServiceEnv(serviceEnv), []);
    // Dependencies are installed at build time: nothing is fetched when the container starts.
    assert.ok(
      stage.some((i) => i.keyword === "RUN" && /\bdeno install --frozen\b/.test(i.args)),
      `${file}: no deno install at build time`,
    );
  }
});

Deno.test("Dockerfile HEALTHCHECKs run the /readyz probe script", async () => {
  for (const { file } of VARIANTS) {
    const stage = finalStage(await load(file));
    const hc = stage.find((i) => i.keyword === "HEALTHCHECK");
    assert.ok(hc, `${file}: no HEALTHCHECK`);
    const { flags, rest } = splitFlags(hc.args);
    assert.ok(Number.parseInt(flags["start-period"]) >= 60, "start-period must cover compilation");
    assert.ok(rest.startsWith("CMD "), `${file}: HEALTHCHECK without CMD`);
    const argv = execForm(rest.slice(4).trim())!;
    assert.equal(argv.at(-1), "deploy/healthcheck.ts");
  }
  // The script itself: 0 only when /readyz answers 2xx.
  let ready = false;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/readyz") return new Response(null, { status: ready ? 200 : 503 });
    return new Response(null, { status: 404 });
  });
  try {
    assert.equal(await checkHealth(server.addr.port), 1);
    ready = true;
    assert.equal(await checkHealth(server.addr.port), 0);
  } finally {
    await server.shutdown();
  }
  assert.equal(
    await checkHealth(server.addr.port, "/readyz", 500),
    1,
    "closed port must be unhealthy",
  );
});

Deno.test("GPU Dockerfile installs the Vulkan loader and asks the NVIDIA runtime for graphics", async () => {
  const stage = finalStage(await load("deploy/Dockerfile"));
  const apt = stage.filter((i) => i.keyword === "RUN" && i.args.includes("apt-get install"))
    .map((i) => i.args).join(" ");
  for (const pkg of ["libvulkan1", "mesa-vulkan-drivers"]) {
    assert.match(apt, new RegExp(`\\b${pkg}\\b`));
  }
  // The Vulkan loader complains on every adapter request without a runtime dir.
  assert.ok(envOf(stage).XDG_RUNTIME_DIR, "XDG_RUNTIME_DIR");
  const caps = envOf(stage).NVIDIA_DRIVER_CAPABILITIES.split(",");
  for (const cap of ["compute", "utility", "graphics"]) assert.ok(caps.includes(cap), cap);
  const icd = JSON.parse(await readText("deploy/docker/nvidia_icd.json"));
  assert.equal(icd.ICD.library_path, "libGLX_nvidia.so.0");
});

Deno.test("Dockerfile reader joins continuations and skips comments", () => {
  const ins = parseDockerfile(
    "FROM a AS b\n# note\nRUN one \\\n  # inside\n  two\nCOPY --chown=1:1 x y/ ./z/\nCOPY --from=b /deno /bin/deno\n",
  );
  assert.deepEqual(ins.map((i) => i.keyword), ["FROM", "RUN", "COPY", "COPY"]);
  assert.equal(ins[1].args, "one two");
  assert.deepEqual(copySources(ins[2]), ["x", "y/"]);
  assert.deepEqual(copySources(ins[3]), []);
});
