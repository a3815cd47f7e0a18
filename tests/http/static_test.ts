import assert from "node:assert/strict";
import { join } from "node:path";
import { testApp, url } from "./setup.ts";

async function withPublic(fn: (dir: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir();
  const pub = join(root, "public");
  await Deno.mkdir(join(pub, "assets"), { recursive: true });
  await Deno.writeTextFile(join(pub, "index.html"), "<!doctype html><title>playground</title>");
  await Deno.writeTextFile(join(pub, "assets", "app.js"), "console.log(1);");
  await Deno.writeTextFile(join(pub, "assets", "style.css"), "body{}");
  await Deno.writeTextFile(join(root, "secret.txt"), "top secret");
  try {
    await fn(pub);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("handler() serves public/index.html at / and assets with content types", async () => {
  await withPublic(async (dir) => {
    const { app } = testApp({ publicDir: dir });
    const index = await app.handler(new Request(url("/")));
    assert.equal(index.status, 200);
    assert.equal(index.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(await index.text(), "<!doctype html><title>playground</title>");
    const js = await app.handler(new Request(url("/assets/app.js")));
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(await js.text(), "console.log(1);");
    const css = await app.handler(new Request(url("/assets/style.css")));
    assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
    await css.body?.cancel();
    const head = await app.handler(new Request(url("/index.html"), { method: "HEAD" }));
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), "40");
  });
});

Deno.test("handler() refuses directory traversal out of public/ with 404", async () => {
  await withPublic(async (dir) => {
    const { app } = testApp({ publicDir: dir });
    for (
      const path of [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
      ]
    ) {
      const res = await app.handler(new Request(`http://localhost${path}`));
      assert.equal(res.status, 404, path);
      assert.ok(!(await res.text()).includes("top secret"), path);
    }
  });
});

Deno.test("handler() refuses a symlink in public/ that points outside it", async () => {
  if (Deno.build.os === "windows") return;
  await withPublic(async (dir) => {
    await Deno.symlink(join(dir, "..", "secret.txt"), join(dir, "leak.txt"));
    const { app } = testApp({ publicDir: dir });
    const res = await app.handler(new Request(url("/leak.txt")));
    assert.equal(res.status, 404);
    assert.ok(!(await res.text()).includes("top secret"));
  });
});

Deno.test("handler() answers 404 for a missing static file and when public/ does not exist", async () => {
  await withPublic(async (dir) => {
    const { app } = testApp({ publicDir: dir });
    const res = await app.handler(new Request(url("/nope.js")));
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error.code, "not_found");
  });
  const { app } = testApp({ publicDir: "/definitely/not/here" });
  const res = await app.handler(new Request(url("/")));
  assert.equal(res.status, 404);
  await res.body?.cancel();
});

Deno.test("handler() answers 405 with Allow: GET, HEAD for other methods on static files", async () => {
  await withPublic(async (pub) => {
    const { app } = testApp({ publicDir: pub });
    for (const path of ["/", "/assets/app.js"]) {
      const res = await app.handler(new Request(url(path), { method: "PUT", body: "x" }));
      assert.equal(res.status, 405, path);
      assert.equal(res.headers.get("allow"), "GET, HEAD");
      assert.equal((await res.json()).error.code, "method_not_allowed");
    }
    const missing = await app.handler(new Request(url("/nope.txt"), { method: "DELETE" }));
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  });
});
