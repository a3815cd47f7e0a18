/// <reference lib="deno.worker" />
// A Worker that answers every message with the same data (for tests/runtime/web_worker_test.ts).
self.onmessage = (ev: MessageEvent) => self.postMessage(ev.data);
