/**
 * The settings policy: a request for a setting that must compile on demand does not hold another
 * model's requests; new settings of one model are admitted one at a time; `MAX_ITERATIONS` and
 * `ON_DEMAND_SETTINGS` limit what may be asked for.
 * @module
 */
import assert from "node:assert/strict";
import { createFakeModel } from "../helpers/fake_model.ts";
import { solidPng } from "./png.ts";
import { testApp, url } from "./setup.ts";

const post = async (path: string) =>
  new Request(url(path), { method: "POST", body: await solidPng(255) });

/** "done" if `p` settles within `ms`, else "pending" (the timer is always cleared). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | "pending"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"pending">((r) => (timer = setTimeout(() => r("pending"), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("handler() answers another model's cheap request within 2 s while a new setting compiles", async () => {
  const slow = createFakeModel({ id: "slow" });
  const fast = createFakeModel({ id: "fast" });
  const { app } = testApp({}, { models: [slow, fast] });
  // The held batch stands for a compile plus a T = 10 run (71–77 s on the probe's machine).
  const release = slow.hold();
  try {
    const compiling = app.handler(await post("/v1/models/slow/score?iterations=10&alpha=0.5"));
    await slow.started(1);
    const t0 = performance.now();
    const res = await within(app.handler(await post("/v1/models/fast/score?method=msp")), 2000);
    assert.notEqual(res, "pending", "the other model's request waited for the held batch");
    const ms = performance.now() - t0;
    assert.equal((res as Response).status, 200);
    const lines = (await (res as Response).text()).trim().split("\n");
    assert.equal(lines.length, 2, "a score line and the summary");
    assert.ok(ms < 2000, `${ms.toFixed(0)} ms`);
    release();
    assert.equal((await compiling).status, 200);
    await (await compiling).body?.cancel();
  } finally {
    release();
  }
});

Deno.test("handler() admits one new setting per model at a time (503 for a second one)", async () => {
  const { app, model } = testApp();
  const release = model.hold();
  try {
    const first = app.handler(await post("/v1/models/fake/score?iterations=9&alpha=0.5"));
    await model.started(1);
    const second = await app.handler(await post("/v1/models/fake/score?iterations=8&alpha=0.5"));
    assert.equal(second.status, 503);
    const body = await second.json();
    assert.equal(body.error.code, "overloaded");
    assert.match(body.error.message, /another new setting of this model/);
    assert.ok(Number(second.headers.get("retry-after")) >= 1);
    // The same new setting again, and the defaults, are not new: they queue behind it.
    const same = app.handler(await post("/v1/models/fake/score?iterations=9&alpha=0.5"));
    release();
    for (const r of [await first, await same]) {
      assert.equal(r.status, 200);
      await r.body?.cancel();
    }
  } finally {
    release();
  }
});

Deno.test("handler() refuses iterations over MAX_ITERATIONS, except for methods that ignore it", async () => {
  const { app } = testApp({ maxIterations: 3 });
  const refused = await app.handler(await post("/v1/models/fake/score?iterations=4"));
  assert.equal(refused.status, 400);
  const e = (await refused.json()).error;
  assert.equal(e.code, "bad_parameter");
  assert.match(e.message, /"iterations": this service allows at most 3 \(MAX_ITERATIONS\)/);
  for (
    const path of [
      "/v1/models/fake/score?iterations=3",
      "/v1/models/fake/score?method=msp&iterations=9",
    ]
  ) {
    const ok = await app.handler(await post(path));
    assert.equal(ok.status, 200, path);
    await ok.body?.cancel();
  }
});

Deno.test("handler() with ON_DEMAND_SETTINGS=calibrated scores only defaults and calibrated settings", async () => {
  const { app } = testApp({ onDemandSettings: "calibrated" }, { model: { calibration: null } });
  const refused = await app.handler(await post("/v1/models/fake/score?alpha=0.5"));
  assert.equal(refused.status, 400);
  assert.match((await refused.json()).error.message, /ON_DEMAND_SETTINGS=calibrated/);
  const ok = await app.handler(await post("/v1/models/fake/score"));
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  const calibrated = testApp({ onDemandSettings: "calibrated" }).app;
  const cal = await calibrated.handler(await post("/v1/models/fake/score?alpha=0.5"));
  assert.equal(cal.status, 200, "the fake model is calibrated for every si setting");
  await cal.body?.cancel();
});
