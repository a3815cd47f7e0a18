import assert from "node:assert/strict";
import { createClient, type ScoreLine } from "../../client/mod.ts";
import { DEFAULT_CONFIG } from "../../src/config.ts";
import { createApp } from "../../src/http/app.ts";
import { withFusion } from "../../src/models/fusion.ts";
import { buildFusedCalibration } from "../../src/models/fusion_calibration.ts";
import type { Manifest } from "../../src/models/manifest.ts";
import type { ModelRegistry } from "../../src/models/types.ts";
import type { Scorer } from "../../src/contract/scoring.ts";
import { DEFAULT_SETTINGS } from "../../src/contract/scoring.ts";
import { createFakeModel } from "../helpers/fake_model.ts";
import { launchBrowser } from "./browser.ts";
import { u8Pngs } from "./fixture_images.ts";
import { asFiles, openPlayground, renderedCards, waitUntilSettled } from "./page_helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** The fake model with a fused calibration; its energy is 10 × its S&I score. */
function fusedFakeRegistry(): ModelRegistry {
  const rows = Array.from({ length: 9 }, (_, i) => [(i + 1) / 10, i + 1]);
  const cal = buildFusedCalibration({
    settings: DEFAULT_SETTINGS,
    components: ["si", "energy"],
    rows,
    data: "fake",
    created: "t",
  });
  const fake = createFakeModel({ calibration: cal });
  const inner: Scorer = {
    splits: fake.scorer.splits,
    score: async (b, s) =>
      (await fake.scorer.score(b, s)).map((r) => ({ ...r, energy: r.score * 10 })),
  };
  const manifest = { calibration: [cal], defaults: DEFAULT_SETTINGS } as unknown as Manifest;
  const model = { ...fake, scorer: withFusion(inner, manifest, "fake") };
  return { ready: true, list: () => [model], get: (id) => (id === "fake" ? model : undefined) };
}

Deno.test("playground shows each fused component's score and p-value", opts, async () => {
  const images = [
    ...await u8Pngs("id-fmnist.u8", 2, "fmnist"),
    ...await u8Pngs("ood-mnist.u8", 2, "mnist"),
  ];
  const app = createApp({
    registry: fusedFakeRegistry(),
    config: {
      ...DEFAULT_CONFIG,
      publicDir: new URL("../../public/", import.meta.url).pathname,
      batchWaitMs: 0,
    },
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.handler);
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    await openPlayground(page, url);
    await page.selectOption("#method", "fused");
    await page.setInputFiles("#files", asFiles(images));
    await waitUntilSettled(page, images.length);
    const { results } = await createClient({ baseUrl: url }).scoreImages(
      "fake",
      images.map((i) => ({ name: i.name, data: i.bytes, type: i.mimeType })),
      { method: "fused" },
    ).collect();
    const cards = await renderedCards(page);
    for (const line of results as ScoreLine[]) {
      const f = cards.find((c) => c.index === line.index)!.fields;
      assert.equal(f.method.value, "fused");
      assert.equal(f.score.value, String(line.score));
      assert.equal(line.components?.length, 2);
      for (const c of line.components!) {
        assert.equal(f[`${c.method}.score`].value, String(c.score));
        assert.equal(f[`${c.method}.p_value`].value, String(c.p_value));
        assert.equal(f[`${c.method}.p_value`].text, c.p_value.toFixed(3));
      }
    }
  } finally {
    await browser.close();
    await server.shutdown();
  }
});
