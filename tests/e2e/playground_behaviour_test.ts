import assert from "node:assert/strict";
import { createClient, isErrorLine } from "../../client/mod.ts";
import { launchBrowser } from "./browser.ts";
import { type FixtureImage, u8Pngs } from "./fixture_images.ts";
import { asFiles, openPlayground, renderedCards, waitUntilSettled } from "./page_helpers.ts";
import { startService } from "./server.ts";

// The browser and the server outlive single async ops by design; each test closes both itself.
const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("playground shows a verdict before the last image is scored", opts, async () => {
  const images = await u8Pngs("id-fmnist.u8", 4, "fmnist");
  // One image per batch, 300 ms each: verdicts must appear one by one.
  const service = startService({ batchMax: 1 }, { delayMs: 300 });
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    await openPlayground(page, service.url);
    await page.setInputFiles("#files", asFiles(images));
    await page.waitForSelector('#results .card[data-index="0"]:not(.pending)');
    const cards = await renderedCards(page);
    assert.equal(cards.length, 4);
    assert.equal(cards[0].busy, false);
    assert.equal(cards[3].busy, true, "the last image is still being scored");
    assert.ok(service.model.batches.length < 4);
    await waitUntilSettled(page, 4);
  } finally {
    await browser.close();
    await service.close();
  }
});

Deno.test("playground is operable by keyboard and labelled for assistive tech", opts, async () => {
  const images = await u8Pngs("ood-mnist.u8", 2, "mnist");
  const service = startService();
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    await openPlayground(page, service.url);
    // Controls are reachable by their visible labels.
    assert.equal(await page.getByLabel("Model").inputValue(), "fake");
    assert.equal(await page.getByLabel("Method").inputValue(), "si");
    assert.equal(await page.getAttribute("#results", "aria-live"), "polite");
    assert.equal(await page.getAttribute("#error", "role"), "alert");

    // Tab from the method picker to the drop zone's file input, then open it with the keyboard.
    await page.focus("#method");
    for (let i = 0; i < 5; i++) {
      if (await page.evaluate(() => document.activeElement?.id) === "files") break;
      await page.keyboard.press("Tab");
    }
    assert.equal(await page.evaluate(() => document.activeElement?.id), "files");
    // Headless Chromium occasionally drops the first key press right after focus moves; the
    // keyboard path must still open the chooser within a few presses.
    let chooser;
    for (let attempt = 0; attempt < 3 && !chooser; attempt++) {
      [chooser] = await Promise.all([
        page.waitForEvent("filechooser", { timeout: 5000 }).catch(() => undefined),
        page.keyboard.press("Space"),
      ]);
    }
    assert.ok(chooser, "Space on the focused file input opens the file chooser");
    assert.equal(chooser.isMultiple(), true);
    await chooser.setFiles(asFiles(images));
    await waitUntilSettled(page, 2);
    const alts = await page.$$eval(
      "#results img",
      (imgs) => imgs.map((i) => i.getAttribute("alt")),
    );
    assert.deepEqual(alts, images.map((i) => i.name));
  } finally {
    await browser.close();
    await service.close();
  }
});

Deno.test("playground shows per-image errors and whole-request errors visibly", opts, async () => {
  const [good] = await u8Pngs("id-fmnist.u8", 1, "fmnist");
  const broken: FixtureImage = {
    name: "broken.png",
    mimeType: "image/png",
    bytes: good.bytes.slice(0, 40), // a PNG cut short
  };
  const service = startService({ maxImagesPerRequest: 2 });
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    await openPlayground(page, service.url);

    // One broken image among good ones: an error card, the rest still scored.
    await page.setInputFiles("#files", asFiles([good, broken]));
    await waitUntilSettled(page, 2);
    const { results } = await createClient({ baseUrl: service.url }).scoreImages(
      "fake",
      [good, broken].map((i) => ({ name: i.name, data: i.bytes, type: i.mimeType })),
    ).collect();
    const apiError = results[1];
    assert.ok(isErrorLine(apiError));
    const cards = await renderedCards(page);
    assert.match(cards[0].classes, /is-(id|ood)/);
    assert.match(cards[1].classes, /is-error/);
    assert.equal(cards[1].fields.error.value, apiError.error.code);
    const shown = await page.textContent('#results .card[data-index="1"] .verdict') ?? "";
    assert.ok(shown.includes(apiError.error.message), `"${shown}" shows the API's message`);
    assert.equal(await page.isHidden("#error"), true);

    // Three images exceed the limit of two: the whole request fails, visibly.
    await page.setInputFiles("#files", asFiles([good, good, good]));
    await page.waitForSelector("#error:not([hidden])");
    const alert = await page.textContent("#error") ?? "";
    const direct = await fetch(new URL("v1/models/fake/score", service.url), {
      method: "POST",
      body: (() => {
        const form = new FormData();
        for (let i = 0; i < 3; i++) form.append("image", new Blob([good.bytes.slice()]), "x.png");
        return form;
      })(),
    });
    const { error } = await direct.json();
    assert.ok(direct.status >= 400);
    assert.ok(alert.includes(error.message), `alert "${alert}" shows "${error.message}"`);
    assert.ok(alert.includes(error.code));
    await waitUntilSettled(page, 3);
    const failed = await renderedCards(page);
    assert.ok(failed.every((c) => c.classes.includes("is-error")));
  } finally {
    await browser.close();
    await service.close();
  }
});

Deno.test(
  "playground refuses alpha = 0 as the server does, before sending anything",
  opts,
  async () => {
    const [good] = await u8Pngs("id-fmnist.u8", 1, "fmnist");
    const service = startService();
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await openPlayground(page, service.url);
      const direct = await fetch(new URL("v1/models/fake/score?alpha=0", service.url), {
        method: "POST",
        body: (() => {
          const form = new FormData();
          form.append("image", new Blob([good.bytes.slice()]), "x.png");
          return form;
        })(),
      });
      assert.equal(direct.status, 400, "the server refuses alpha = 0");
      await direct.body?.cancel();

      await page.click("details.advanced summary");
      await page.fill("#alpha", "0");
      await page.setInputFiles("#files", asFiles([good]));
      await page.waitForSelector("#error:not([hidden])");
      // The service's own words, but no request: a refused request would read "Scoring failed: …".
      assert.equal(
        await page.textContent("#error"),
        'Invalid parameter "alpha": expected a number in (0, 100], got "0"',
      );
      assert.equal(service.model.batches.length, 0, "no image was sent to be scored");

      await page.fill("#alpha", "0.01");
      await page.click("#rescore");
      await waitUntilSettled(page, 1);
      assert.equal(await page.isHidden("#error"), true);
      assert.equal(service.model.batches.at(-1)?.settings.alpha, 0.01);
    } finally {
      await browser.close();
      await service.close();
    }
  },
);

Deno.test("playground reports an unreachable model list", opts, async () => {
  const service = startService({ authToken: "s3cret" });
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    await page.goto(service.url);
    await page.waitForSelector("#error:not([hidden])");
    const alert = await page.textContent("#error") ?? "";
    assert.match(alert, /unauthorized/);
    assert.match(alert, /API token/);
    // Entering the token recovers.
    await page.click("summary");
    await page.fill("#token", "s3cret");
    await page.press("#token", "Enter");
    await page.waitForSelector("#model:not([disabled])");
    assert.equal(await page.inputValue("#model"), "fake");
    assert.equal(await page.isHidden("#error"), true);
  } finally {
    await browser.close();
    await service.close();
  }
});

Deno.test("playground scores dropped images and rescores with another method", opts, async () => {
  const images = await u8Pngs("id-fmnist.u8", 2, "fmnist");
  const service = startService();
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    await openPlayground(page, service.url);
    // A drop carrying two images and a text file: the images are scored, the text file skipped.
    const files = [
      ...images.map((i) => ({ name: i.name, type: i.mimeType, bytes: [...i.bytes] })),
      { name: "notes.txt", type: "text/plain", bytes: [104, 105] },
    ];
    const transfer = await page.evaluateHandle((list) => {
      const dt = new DataTransfer();
      for (const f of list) {
        dt.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: f.type }));
      }
      return dt;
    }, files);
    await page.dispatchEvent("#drop", "drop", { dataTransfer: transfer });
    await waitUntilSettled(page, 2);
    await page.waitForSelector("#error:not([hidden])");
    assert.match(await page.textContent("#error") ?? "", /1 file\(s\) skipped/);
    const before = await renderedCards(page);
    assert.deepEqual(before.map((c) => c.fields.method.value), ["si", "si"]);

    // msp has no calibration in the fake model: scores but no verdict, and the chart says so.
    await page.selectOption("#method", "msp");
    await page.click("#rescore");
    await page.waitForFunction(() =>
      document.querySelectorAll('#results [data-field="method"][data-value="msp"]').length === 2
    );
    const after = await renderedCards(page);
    assert.deepEqual(after.map((c) => c.fields.verdict.value), ["null", "null"]);
    assert.deepEqual(after.map((c) => c.fields.threshold.text), ["—", "—"]);
    assert.match(await page.textContent("#chart") ?? "", /No calibration for this method/);
    assert.ok(service.model.batches.some((b) => b.settings.method === "msp"));
  } finally {
    await browser.close();
    await service.close();
  }
});

Deno.test("playground waits for models that are still loading", opts, async () => {
  const service = startService({}, {}, { loading: true });
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    await page.goto(service.url);
    await page.waitForFunction(() =>
      /still loading/.test(document.getElementById("status")?.textContent ?? "")
    );
    assert.equal(await page.isDisabled("#model"), true);
    service.finishLoading();
    await page.waitForSelector("#model:not([disabled])", { timeout: 10_000 });
    assert.equal(await page.inputValue("#model"), "fake");
    assert.equal(await page.isHidden("#error"), true);
  } finally {
    await browser.close();
    await service.close();
  }
});
