import assert from "node:assert/strict";
import { Image } from "imagescript";
import { formatReport, runSmoke, sampleImage } from "../../deploy/smoke.ts";
import { checkScoreStream } from "../../deploy/lib/ndjson_shape.ts";
import { crc32, encodeGrayPng } from "../../deploy/lib/png.ts";

const GOOD_LINE = {
  index: 0,
  name: "image-0",
  score: -1.25,
  ood: false,
  threshold: -3.5,
  p_value: 0.42,
  class: 0,
  label: "T-shirt/top",
  confidence: 0.91,
  method: "si",
};

interface FakeOptions {
  ready?: boolean;
  scoreBody?: string;
  scoreType?: string;
}

/** A stand-in service with the real routes' shapes; records what the score route received. */
function fakeService(opts: FakeOptions) {
  const received: { type: string | null; bytes: number }[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/healthz") return Response.json({ status: "ok" });
    if (path === "/readyz") return new Response(null, { status: opts.ready === false ? 503 : 200 });
    if (path === "/v1/models") return Response.json({ models: [{ id: "fmnist-wrn40" }] });
    if (path === "/v1/models/fmnist-wrn40/score" && req.method === "POST") {
      const body = new Uint8Array(await req.arrayBuffer());
      received.push({ type: req.headers.get("content-type"), bytes: body.length });
      const text = opts.scoreBody ??
        `${JSON.stringify(GOOD_LINE)}\n${JSON.stringify({ summary: { images: 1 } })}\n`;
      return new Response(text, {
        headers: { "content-type": opts.scoreType ?? "application/x-ndjson" },
      });
    }
    return new Response(null, { status: 404 });
  });
  return { server, received, url: `http://127.0.0.1:${server.addr.port}` };
}

Deno.test("smoke check passes against a well-behaved service and sends a PNG", async () => {
  const fake = fakeService({});
  try {
    const report = await runSmoke({ baseUrl: fake.url, timeoutMs: 5000 });
    assert.equal(report.ok, true, formatReport(report));
    assert.equal(report.ready, true);
    assert.deepEqual(report.checks.map((c) => c.status), ["pass", "pass", "pass", "pass"]);
    assert.equal(fake.received.length, 1);
    assert.equal(fake.received[0].type, "image/png");
    assert.match(formatReport(report), /smoke: OK/);
  } finally {
    await fake.server.shutdown();
  }
});

Deno.test("smoke check fails on a malformed score stream and on a wrong content type", async () => {
  const bad = { ...GOOD_LINE, score: "high", p_value: 2 };
  const fake = fakeService({ scoreBody: `${JSON.stringify(bad)}\n{"summary":{}}\n` });
  try {
    const report = await runSmoke({ baseUrl: fake.url, timeoutMs: 5000 });
    assert.equal(report.ok, false);
    const failed = report.checks.find((c) => c.status === "fail")!;
    assert.match(failed.detail, /bad "score"/);
    assert.match(failed.detail, /bad "p_value"/);
  } finally {
    await fake.server.shutdown();
  }
  const json = fakeService({ scoreType: "application/json" });
  try {
    const report = await runSmoke({ baseUrl: json.url, timeoutMs: 5000 });
    assert.equal(report.ok, false);
    assert.match(formatReport(report), /NDJSON content type/);
  } finally {
    await json.server.shutdown();
  }
});

Deno.test("smoke check on a not-ready service fails, or skips model checks when allowed", async () => {
  const fake = fakeService({ ready: false });
  try {
    const strict = await runSmoke({ baseUrl: fake.url, timeoutMs: 5000 });
    assert.equal(strict.ok, false);
    assert.equal(strict.ready, false);
    const lenient = await runSmoke({ baseUrl: fake.url, allowNotReady: true, timeoutMs: 5000 });
    assert.equal(lenient.ok, true);
    assert.deepEqual(lenient.checks.map((c) => c.status), ["pass", "skip", "skip", "skip"]);
    assert.equal(fake.received.length, 0, "nothing is scored before /readyz passes");
  } finally {
    await fake.server.shutdown();
  }
  const report = await runSmoke({ baseUrl: "http://127.0.0.1:9", timeoutMs: 2000 });
  assert.equal(report.ok, false);
  assert.match(report.checks[0].detail, /unreachable/);
});

Deno.test("score stream checker wants every field, input order and a summary", () => {
  const good = `${JSON.stringify(GOOD_LINE)}\n{"summary":{"images":1}}\n`;
  assert.deepEqual(checkScoreStream(good, 1), []);
  // Null verdict fields are fine for a model without calibration.
  const uncalibrated = { ...GOOD_LINE, ood: null, threshold: null, p_value: null };
  assert.deepEqual(checkScoreStream(`${JSON.stringify(uncalibrated)}\n{}\n`, 1), []);
  const { method: _, ...noMethod } = GOOD_LINE;
  assert.match(checkScoreStream(`${JSON.stringify(noMethod)}\n{}\n`, 1).join(), /lacks "method"/);
  assert.match(checkScoreStream(`${JSON.stringify(GOOD_LINE)}\n`, 1).join(), /got 1 line/);
  const errorLine = { index: 0, name: "x", error: { code: "corrupt_image", message: "bad" } };
  assert.match(checkScoreStream(`${JSON.stringify(errorLine)}\n{}\n`, 1).join(), /not scored/);
  assert.match(checkScoreStream("{nope\n", 1).join(), /not JSON/);
  const swapped = `${JSON.stringify({ ...GOOD_LINE, index: 1 })}\n${
    JSON.stringify(GOOD_LINE)
  }\n{}\n`;
  assert.match(checkScoreStream(swapped, 2).join(), /index 1, expected 0/);
});

Deno.test("smoke sample image is a valid 28x28 PNG of the first fixture image", async () => {
  const png = await sampleImage();
  const image = await Image.decode(png);
  assert.equal(image.width, 28);
  assert.equal(image.height, 28);
  const fixture = await Deno.readFile(
    new URL("../fixtures/wrn40-fmnist/id-fmnist.u8", import.meta.url),
  );
  // imagescript is 1-based; grayscale decodes to equal R, G, B.
  for (const [x, y] of [[1, 1], [14, 14], [20, 9]]) {
    const [r, g, b] = Image.colorToRGBA(image.getPixelAt(x, y));
    assert.equal(r, fixture[(y - 1) * 28 + (x - 1)]);
    assert.equal(g, r);
    assert.equal(b, r);
  }
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  await assert.rejects(encodeGrayPng(new Uint8Array(3), 2, 2), /Expected 4 pixels/);
});

Deno.test("smoke script exits 0 on a good service, 1 on a bad one, 2 on bad arguments", async () => {
  const script = new URL("../../deploy/smoke.ts", import.meta.url).pathname;
  const run = async (...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, ...args],
      env: { AUTH_TOKEN: "" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { code: out.code, text };
  };
  const good = fakeService({});
  const bad = fakeService({ scoreBody: "{}\n" });
  try {
    const ok = await run(good.url, "--model", "fmnist-wrn40");
    assert.equal(ok.code, 0, ok.text);
    assert.match(ok.text, /PASS {2}POST \/v1\/models\/fmnist-wrn40\/score/);
    const failed = await run(bad.url);
    assert.equal(failed.code, 1, failed.text);
    assert.match(failed.text, /FAIL/);
    const unknown = await run(good.url, "--model", "nope");
    assert.equal(unknown.code, 1);
    assert.match(unknown.text, /model "nope" not served/);
  } finally {
    await good.server.shutdown();
    await bad.server.shutdown();
  }
  const usage = await run("--image");
  assert.equal(usage.code, 2);
  assert.match(usage.text, /usage:/);
});
