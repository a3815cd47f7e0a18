import assert from "node:assert/strict";
import { Counter, Histogram, Metrics } from "../../src/serve/metrics.ts";

Deno.test("Counter renders labelled series in Prometheus text format", () => {
  const c = new Counter("x_total", "Things.");
  c.inc({ route: "score", status: "200" });
  c.inc({ status: "200", route: "score" }, 2);
  c.inc({ route: 'we"ird' });
  assert.equal(c.get({ route: "score", status: "200" }), 3);
  assert.equal(
    c.render(),
    [
      "# HELP x_total Things.",
      "# TYPE x_total counter",
      'x_total{route="score",status="200"} 3',
      'x_total{route="we\\"ird"} 1',
    ].join("\n"),
  );
});

Deno.test("Histogram renders cumulative buckets, +Inf, sum and count", () => {
  const h = new Histogram("lat_seconds", "Latency.", [0.1, 1]);
  h.observe(0.05, { route: "a" });
  h.observe(0.5, { route: "a" });
  h.observe(5, { route: "a" });
  assert.equal(
    h.render(),
    [
      "# HELP lat_seconds Latency.",
      "# TYPE lat_seconds histogram",
      'lat_seconds_bucket{route="a",le="0.1"} 1',
      'lat_seconds_bucket{route="a",le="1"} 2',
      'lat_seconds_bucket{route="a",le="+Inf"} 3',
      'lat_seconds_sum{route="a"} 5.55',
      'lat_seconds_count{route="a"} 3',
    ].join("\n"),
  );
});

Deno.test("Metrics reads the queue depth from the attached batcher at render time", () => {
  const m = new Metrics();
  let depth = 3;
  m.attachQueue(() => depth);
  assert.match(m.render(), /^si_queue_depth 3$/m);
  depth = 0;
  assert.match(m.render(), /^si_queue_depth 0$/m);
});

Deno.test("Metrics reads the expected queue wait from the attached batcher at render time", () => {
  const m = new Metrics();
  let wait = 12.5;
  m.attachQueue(() => 0, () => wait);
  assert.match(m.render(), /^si_queue_expected_wait_seconds 12.5$/m);
  wait = 0;
  assert.match(m.render(), /^si_queue_expected_wait_seconds 0$/m);
});
