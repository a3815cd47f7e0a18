/**
 * The engine's compiled sessions: at most `slots` alive, least recently used evicted, one shared
 * creation per key, and no session released while a run holds it.
 *
 * A run leases its session before it queues, so an eviction can never free a session a queued run
 * is about to use; the evicted session is released when its last lease ends. A new session is
 * created only after every evicted one is released, so the sessions alive at once — and the
 * memory they hold, which the memory budget counts per slot — never exceed `slots`.
 * @module
 */
import type { GraphSession } from "../runtime/types.ts";

/** A session held for one run; `done()` ends the hold. */
export interface Lease {
  readonly session: GraphSession;
  done(): void;
}

interface Entry {
  session: Promise<GraphSession>;
  users: number;
  /** Set when evicted: resolves once the session is released. */
  gone?: Promise<void>;
  releaseNow?: () => void;
}

/** Bounded, least-recently-used sessions keyed by settings. */
export class SessionPool {
  readonly #entries = new Map<string, Entry>();
  readonly #releasing = new Set<Promise<void>>();
  /** Sessions alive at once. */
  readonly slots: number;
  /** Sessions created so far (a failed creation counts too). */
  created = 0;

  constructor(slots: number) {
    this.slots = Math.max(1, slots);
  }

  /**
   * The session for `key`, made by `create` on first use (concurrent callers share the creation;
   * it starts once every evicted session is released).
   */
  async acquire(key: string, create: () => Promise<GraphSession>): Promise<Lease> {
    let entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key); // re-inserted below: most recently used last
      this.#entries.set(key, entry);
    } else {
      entry = { session: Promise.resolve(undefined!), users: 0 };
      this.#entries.set(key, entry);
      this.#evictOverflow();
      const released = Promise.all(this.#releasing);
      this.created++;
      const e = entry;
      e.session = released.then(create);
      e.session.catch(() => {
        if (this.#entries.get(key) === e) this.#entries.delete(key);
      });
    }
    const e = entry;
    e.users++; // held from here, so an eviction while it is created cannot release it under us
    let session: GraphSession;
    try {
      session = await e.session;
    } catch (err) {
      this.#unhold(e);
      throw err;
    }
    let ended = false;
    return {
      session,
      done: () => {
        if (ended) return;
        ended = true;
        this.#unhold(e);
      },
    };
  }

  /** Releases every session (for shutdown and tests); waits for runs that hold one. */
  async close(): Promise<void> {
    for (const key of [...this.#entries.keys()]) this.#evict(key);
    await Promise.all(this.#releasing);
  }

  #unhold(e: Entry): void {
    e.users--;
    if (e.users === 0) e.releaseNow?.();
  }

  #evictOverflow(): void {
    while (this.#entries.size > this.slots) this.#evict(this.#entries.keys().next().value!);
  }

  #evict(key: string): void {
    const e = this.#entries.get(key)!;
    this.#entries.delete(key);
    let start!: () => void;
    const started = new Promise<void>((resolve) => (start = resolve));
    e.releaseNow = start;
    e.gone = started
      .then(() => e.session)
      .then((s) => s.release())
      .catch(() => undefined); // a failed creation or release leaves nothing to free
    this.#releasing.add(e.gone);
    void e.gone.then(() => this.#releasing.delete(e.gone!));
    if (e.users === 0) start();
  }
}
