import assert from "node:assert/strict";
import { timingSafeEqual } from "../../src/http/security.ts";
import { testApp, url } from "./setup.ts";

Deno.test("timingSafeEqual() compares strings of equal and different lengths", () => {
  assert.equal(timingSafeEqual("s3cret", "s3cret"), true);
  assert.equal(timingSafeEqual("s3cret", "s3creT"), false);
  assert.equal(timingSafeEqual("s3cret", "s3cret!"), false);
  assert.equal(timingSafeEqual("", "x"), false);
  assert.equal(timingSafeEqual("", ""), true);
});

Deno.test("handler() requires the bearer token on /v1 and /metrics when AUTH_TOKEN is set", async () => {
  const { app } = testApp({ authToken: "tok-123" });
  for (const path of ["/v1/models", "/v1/models/fake", "/metrics"]) {
    for (const auth of [undefined, "Bearer wrong", "Basic tok-123", "Bearer tok-1234"]) {
      const headers: Record<string, string> = auth ? { authorization: auth } : {};
      const res = await app.handler(new Request(url(path), { headers }));
      assert.equal(res.status, 401, `${path} ${auth}`);
      assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="si-ood"');
      assert.equal((await res.json()).error.code, "unauthorized");
    }
    const ok = await app.handler(
      new Request(url(path), { headers: { authorization: "Bearer tok-123" } }),
    );
    assert.equal(ok.status, 200, path);
    await ok.body?.cancel();
  }
});

Deno.test("handler() keeps /healthz and /readyz open when AUTH_TOKEN is set", async () => {
  const { app } = testApp({ authToken: "tok-123" });
  for (const path of ["/healthz", "/readyz"]) {
    const res = await app.handler(new Request(url(path)));
    assert.equal(res.status, 200, path);
    await res.body?.cancel();
  }
});

Deno.test("handler() answers a CORS preflight for an allowed origin only", async () => {
  const { app } = testApp({ corsOrigins: ["https://edge.example"] });
  const preflight = (origin: string) =>
    app.handler(
      new Request(url("/v1/models/fake/score"), {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST" },
      }),
    );
  const ok = await preflight("https://edge.example");
  assert.equal(ok.status, 204);
  assert.equal(ok.headers.get("access-control-allow-origin"), "https://edge.example");
  assert.match(ok.headers.get("access-control-allow-methods")!, /POST/);
  assert.match(ok.headers.get("access-control-allow-headers")!, /authorization/);
  assert.match(ok.headers.get("access-control-allow-headers")!, /x-request-timeout/);
  const other = await preflight("https://evil.example");
  assert.equal(other.headers.get("access-control-allow-origin"), null);
});

Deno.test("handler() adds CORS headers to responses and errors for allowed origins", async () => {
  const { app } = testApp({ corsOrigins: ["https://edge.example"] });
  const get = (path: string, origin: string) =>
    app.handler(new Request(url(path), { headers: { origin } }));
  const ok = await get("/v1/models", "https://edge.example");
  assert.equal(ok.headers.get("access-control-allow-origin"), "https://edge.example");
  assert.equal(ok.headers.get("vary"), "Origin");
  assert.equal(ok.headers.get("access-control-expose-headers"), "retry-after, x-request-timeout");
  await ok.body?.cancel();
  const missing = await get("/v1/models/nope", "https://edge.example");
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get("access-control-allow-origin"), "https://edge.example");
  await missing.body?.cancel();
  const denied = await get("/v1/models", "https://evil.example");
  assert.equal(denied.headers.get("access-control-allow-origin"), null);
  await denied.body?.cancel();
});

Deno.test("handler() sends no CORS headers when CORS_ORIGINS is empty and * when it allows any", async () => {
  const none = testApp().app;
  const res = await none.handler(
    new Request(url("/healthz"), { headers: { origin: "https://a.example" } }),
  );
  assert.equal(res.headers.get("access-control-allow-origin"), null);
  await res.body?.cancel();
  const any = testApp({ corsOrigins: ["*"] }).app;
  const star = await any.handler(
    new Request(url("/healthz"), { headers: { origin: "https://a.example" } }),
  );
  assert.equal(star.headers.get("access-control-allow-origin"), "*");
  await star.body?.cancel();
});

Deno.test("handler() checks the bearer token before answering 404 or 405 under /v1/", async () => {
  const { app } = testApp({ authToken: "tok-123" });
  for (const [method, path] of [["GET", "/v1/nothing"], ["PUT", "/v1/models"], ["GET", "/v1/"]]) {
    const res = await app.handler(new Request(url(path), { method }));
    assert.equal(res.status, 401, `${method} ${path}`);
    await res.body?.cancel();
  }
  const auth = { authorization: "Bearer tok-123" };
  const missing = await app.handler(new Request(url("/v1/nothing"), { headers: auth }));
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
  const wrong = await app.handler(new Request(url("/v1/models"), { method: "PUT", headers: auth }));
  assert.equal(wrong.status, 405);
  await wrong.body?.cancel();
});

Deno.test("handler() sends Vary: Origin on every response when CORS is configured", async () => {
  const { app } = testApp({ corsOrigins: ["https://edge.example"] });
  const cases: [string, Record<string, string>, string][] = [
    ["/healthz", {}, "GET"],
    ["/v1/models", { origin: "https://evil.example" }, "GET"],
    ["/v1/models/nope", {}, "GET"],
    ["/v1/models", { origin: "https://edge.example" }, "GET"],
    ["/v1/models/fake/score", {
      origin: "https://evil.example",
      "access-control-request-method": "POST",
    }, "OPTIONS"],
  ];
  for (const [path, headers, method] of cases) {
    const res = await app.handler(new Request(url(path), { method, headers }));
    assert.equal(res.headers.get("vary"), "Origin", `${method} ${path} ${JSON.stringify(headers)}`);
    await res.body?.cancel();
  }
  const star = await testApp({ corsOrigins: ["*"] }).app.handler(new Request(url("/healthz")));
  assert.equal(star.headers.get("vary"), "Origin");
  await star.body?.cancel();
  const none = await testApp().app.handler(new Request(url("/healthz")));
  assert.equal(none.headers.get("vary"), null, "no CORS, no Vary");
  await none.body?.cancel();
});
