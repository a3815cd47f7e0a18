/**
 * Launches Debian's Chromium headless through playwright-core, with a fresh profile and every
 * background network feature off (the test machine and CI have no internet).
 * @module
 */
import { chromium } from "playwright-core";
import type { BrowserContext } from "playwright-core";

/** Where Chromium lives; `CHROMIUM_PATH` overrides the Debian default. */
export const CHROMIUM_PATH = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A running browser with its throw-away profile; `close()` removes both. */
export interface TestBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium; fails with an install hint when it is missing. */
export async function launchBrowser(): Promise<TestBrowser> {
  try {
    await Deno.stat(CHROMIUM_PATH);
  } catch {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: install it with "apt-get install -y chromium" ` +
        `or set CHROMIUM_PATH`,
    );
  }
  const userDataDir = await Deno.makeTempDir({ prefix: "si-e2e-profile-" });
  // A persistent context is how playwright takes an explicit --user-data-dir.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: FLAGS,
    viewport: { width: 1100, height: 1000 },
  });
  return {
    context,
    async close() {
      await context.close();
      await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
    },
  };
}
