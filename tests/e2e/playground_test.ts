import assert from "node:assert/strict";
import { createClient, type ScoreLine } from "../../client/mod.ts";
import { launchBrowser } from "./browser.ts";
import { u8Pngs } from "./fixture_images.ts";
import { asFiles, openPlayground, renderedCards, waitUntilSettled } from "./page_helpers.ts";
import { startService } from "./server.ts";

// The browser and the server outlive single async ops by design; each test closes both itself.
const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("playground renders each verdict as the API answers it", opts, async () => {
  const images = [
    ...await u8Pngs("id-fmnist.u8", 3, "fmnist"),
    ...await u8Pngs("ood-mnist.u8", 3, "mnist"),
  ];
  const service = startService({}, { layers: true });
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await openPlayground(page, service.url);
    assert.equal(await page.inputValue("#model"), "fake");
    assert.equal(await page.inputValue("#method"), "si");

    await page.setInputFiles("#files", asFiles(images));
    await waitUntilSettled(page, images.length);
    if (Deno.env.get("E2E_SCREENSHOT")) {
      await page.screenshot({ path: Deno.env.get("E2E_SCREENSHOT"), fullPage: true });
    }

    const client = createClient({ baseUrl: service.url });
    const { results } = await client.scoreImages(
      "fake",
      images.map((i) => ({ name: i.name, data: i.bytes, type: i.mimeType })),
      { method: "si" },
    ).collect();
    const api = results as ScoreLine[];
    assert.equal(api.length, images.length);
    assert.ok(api.some((l) => l.ood === true) && api.some((l) => l.ood === false));

    const cards = await renderedCards(page);
    for (const line of api) {
      const card = cards.find((c) => c.index === line.index);
      assert.ok(card, `card for image ${line.index}`);
      const f = card.fields;
      assert.equal(f.score.value, String(line.score));
      // The visible number is a rounding of the API's score.
      const shown = Number(f.score.text);
      assert.ok(Math.abs(shown - line.score) <= 1e-3 * Math.max(1, Math.abs(line.score)));
      assert.equal(f.verdict.value, String(line.ood));
      assert.equal(f.verdict.text, line.ood ? "OOD" : "ID");
      assert.equal(f.threshold.value, String(line.threshold));
      assert.equal(f.p_value.value, String(line.p_value));
      assert.equal(f.p_value.text, line.p_value!.toFixed(3));
      assert.equal(f.label.value, String(line.label));
      assert.equal(f.method.value, "si");
      assert.match(card.classes, line.ood ? /is-ood/ : /is-id/);
      // The per-layer view has one bar per split layer of the line, with its value.
      assert.ok(line.layers && line.layers.length > 0);
      assert.deepEqual(card.layerValues, line.layers.map(String));
    }

    // One chart marker per scored image, coloured by its verdict.
    const markers = await page.$$eval(
      "#chart g.marker",
      (gs) =>
        gs.map((g) => ({
          index: Number(g.getAttribute("data-index")),
          ood: g.classList.contains("ood"),
        })),
    );
    assert.deepEqual(
      markers.sort((a, b) => a.index - b.index),
      api.map((l) => ({ index: l.index, ood: l.ood === true })),
    );
    assert.match(await page.textContent("#status") ?? "", /^Done/);
    assert.equal(await page.isHidden("#error"), true);
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
    await service.close();
  }
});
