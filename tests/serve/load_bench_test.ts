import assert from "node:assert/strict";
import { runLoadBench } from "../../bench/load.ts";

Deno.test("runLoadBench() loses and duplicates no lines and turns overload into 503 only", async () => {
  const r = await runLoadBench({
    requests: 30,
    config: { queueMaxImages: 10 },
    out: null,
    fakeDelayMs: 2,
  });
  assert.equal(r.requests, 30);
  assert.equal((r.statuses["200"] ?? 0) + (r.statuses["503"] ?? 0), 30);
  assert.ok((r.statuses["200"] ?? 0) >= 10, JSON.stringify(r.statuses));
  assert.equal(r.lostLines, 0);
  assert.equal(r.duplicatedLines, 0);
  assert.equal(r.serverErrors, 0);
  assert.equal(r.failed, 0);
  assert.ok(r.peakRssBytes > 0);
  assert.ok(r.latencyMs.p95 >= r.latencyMs.p50);
});
