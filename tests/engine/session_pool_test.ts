import assert from "node:assert/strict";
import { SessionPool } from "../../src/engine/session_pool.ts";
import type { GraphSession } from "../../src/runtime/types.ts";

/** Fake sessions that record when they are created and released. */
function recorder() {
  const log: string[] = [];
  const make = (name: string) => async (): Promise<GraphSession> => {
    await new Promise((r) => setTimeout(r, 1));
    log.push(`create ${name}`);
    return {
      inputNames: [],
      outputNames: [],
      run: () => Promise.resolve({}),
      release: () => {
        log.push(`release ${name}`);
        return Promise.resolve();
      },
    };
  };
  return { log, make };
}

Deno.test("SessionPool shares one creation between concurrent callers", async () => {
  const { log, make } = recorder();
  const pool = new SessionPool(2);
  const leases = await Promise.all([1, 2, 3].map(() => pool.acquire("a", make("a"))));
  assert.equal(pool.created, 1);
  assert.ok(leases.every((l) => l.session === leases[0].session));
  leases.forEach((l) => l.done());
  assert.deepEqual(log, ["create a"]);
});

Deno.test("SessionPool with one slot releases a held session only after its lease, then creates", async () => {
  const { log, make } = recorder();
  const pool = new SessionPool(1);
  const a = await pool.acquire("a", make("a"));
  const b = pool.acquire("b", make("b")); // evicts a, which is still held
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(log, ["create a"], "b waits: two sessions would exceed the budget's one slot");
  a.done();
  (await b).done();
  assert.deepEqual(log, ["create a", "release a", "create b"]);
  await pool.close();
  assert.deepEqual(log.at(-1), "release b");
});

Deno.test("SessionPool keeps the most recently used sessions and forgets a failed creation", async () => {
  const { log, make } = recorder();
  const pool = new SessionPool(2);
  for (const key of ["a", "b", "a", "c"]) (await pool.acquire(key, make(key))).done();
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(log, ["create a", "create b", "release b", "create c"]);
  await assert.rejects(pool.acquire("d", () => Promise.reject(new Error("boom"))), /boom/);
  (await pool.acquire("d", make("d"))).done();
  assert.equal(pool.created, 5);
  await pool.close();
});
