import assert from "node:assert/strict";
import { join } from "node:path";
import { validateDenoDeploy } from "../../deploy/validate.ts";
import { ROOT } from "./helpers.ts";

Deno.test("Deno Deploy config validates offline, entrypoint and src/ type-check included", async () => {
  const findings = await validateDenoDeploy(ROOT);
  const failed = findings.filter((f) => !f.ok);
  assert.deepEqual(failed, [], failed.map((f) => `${f.check}: ${f.detail}`).join("\n"));
  const checks = new Set(findings.map((f) => f.check));
  for (
    const c of ["deploy.runtime.entrypoint", "module graph shipped", "model files", "type check"]
  ) {
    assert.ok(checks.has(c), `missing check ${c}`);
  }
});

Deno.test("Deno Deploy validator reports a broken setup check by check", async () => {
  const dir = await Deno.makeTempDir({ prefix: "deno-deploy-bad-" });
  try {
    await Deno.writeTextFile(join(dir, "main.ts"), 'import "./lib.ts";\n');
    await Deno.writeTextFile(join(dir, "lib.ts"), "export const x: number = 1;\n");
    await Deno.writeTextFile(
      join(dir, "deno.json"),
      JSON.stringify({
        deploy: {
          app: "Bad App",
          install: "deno install --frozen",
          runtime: { mode: "static", entrypoint: "main.ts" },
          include: ["main.ts", "models/", "public/"],
        },
      }),
    );
    await Deno.mkdir(join(dir, "deploy"));
    await Deno.writeTextFile(join(dir, "deploy/deno-deploy.env"), "BACKEND=webgpu\nBATCH_MAX=0\n");
    await Deno.mkdir(join(dir, "models/m1"), { recursive: true });
    await Deno.writeTextFile(join(dir, "models/m1/model.onnx"), "not really");

    const findings = await validateDenoDeploy(dir, { typeCheck: false });
    const failed = (check: string) => findings.filter((f) => f.check === check && !f.ok);
    assert.equal(failed("deploy.app").length, 1);
    assert.equal(failed("deploy.runtime.mode").length, 1);
    assert.equal(failed("lockfile shipped").length, 1);
    assert.match(failed("deploy.include")[0].detail, /public\/ exists/);
    assert.match(failed("module graph shipped")[0].detail, /lib\.ts/);
    assert.match(failed("deno-deploy.env")[0].detail, /BATCH_MAX/);
    assert.equal(failed("deno-deploy.env BACKEND").length, 1);
    assert.match(failed("model files")[0].detail, /m1\/manifest\.json/);
    // What is right is still reported as right.
    assert.ok(findings.some((f) => f.check === "deploy.runtime.entrypoint" && f.ok));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
