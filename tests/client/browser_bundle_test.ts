/** The playground imports the client's NDJSON reader and method list from a committed bundle. */
import assert from "node:assert/strict";

Deno.test("public/client.js is the current bundle of client/browser.ts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/client.js`;
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform", "browser", "client/browser.ts", "-o", out],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
    assert.equal(
      await Deno.readTextFile("public/client.js"),
      await Deno.readTextFile(out),
      "public/client.js is stale: run deno task build:client",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the playground uses the client's reader, methods and alpha check, not copies", async () => {
  const app = await Deno.readTextFile("public/app.js");
  assert.match(app, /import \{ alphaProblem, METHODS, readNdjson \} from "\.\/client\.js";/);
  assert.doesNotMatch(app, /getReader\(\)|const METHODS =/);
  const { METHODS } = await import("../../public/client.js");
  const client = await import("../../client/types.ts");
  assert.deepEqual(METHODS, client.METHODS);
});
