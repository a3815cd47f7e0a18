import assert from "node:assert/strict";
import { createClient, type ResultLine } from "../../client/mod.ts";
import { launchBrowser } from "./browser.ts";
import { u8Pngs } from "./fixture_images.ts";
import { openPlayground } from "./page_helpers.ts";
import { startService } from "./server.ts";

// The browser and the server outlive single async ops by design; the test closes both itself.
const opts = { sanitizeOps: false, sanitizeResources: false };

/** Bundles client/mod.ts for browsers the way client/README.md tells users to. */
async function bundleClient(): Promise<string> {
  const out = await Deno.makeTempFile({ suffix: ".js" });
  try {
    const { success, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform", "browser", "-o", out, "client/mod.ts"],
      cwd: new URL("../../", import.meta.url).pathname,
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(success, new TextDecoder().decode(stderr));
    return await Deno.readTextFile(out);
  } finally {
    await Deno.remove(out).catch(() => {});
  }
}

Deno.test(
  "createClient() bundled for browsers streams the same lines in Chromium",
  opts,
  async () => {
    const images = [
      ...await u8Pngs("id-fmnist.u8", 2, "fmnist"),
      ...await u8Pngs("ood-mnist.u8", 1, "mnist"),
    ];
    const bundle = await bundleClient();
    const service = startService();
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await openPlayground(page, service.url); // any page of the service's origin will do
      const inBrowser = await page.evaluate(async ({ src, files }) => {
        const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
        const mod = await import(url);
        const client = mod.createClient({ baseUrl: location.origin });
        const blobs = files.map((f) =>
          new File([new Uint8Array(f.bytes)], f.name, { type: "image/png" })
        );
        const { results, summary } = await client.scoreImages("fake", blobs).collect();
        let error;
        try {
          await client.getModel("missing");
        } catch (e) {
          const { status, code } = e as { status: number; code: string };
          error = { isApiError: e instanceof mod.SiApiError, status, code };
        }
        return { results, summary, error };
      }, { src: bundle, files: images.map((i) => ({ name: i.name, bytes: [...i.bytes] })) });

      const direct = await createClient({ baseUrl: service.url }).scoreImages(
        "fake",
        images.map((i) => ({ name: i.name, data: i.bytes, type: i.mimeType })),
      ).collect();
      assert.deepEqual(inBrowser.results as ResultLine[], direct.results);
      assert.equal(inBrowser.summary.images, 3);
      assert.deepEqual(inBrowser.error, { isApiError: true, status: 404, code: "not_found" });
    } finally {
      await browser.close();
      await service.close();
    }
  },
);
