/**
 * Reading the playground's rendered state from a playwright page.
 * @module
 */
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import type { FixtureImage } from "./fixture_images.ts";

/** What a rendered card shows: per field, the raw `data-value` and the visible text. */
export interface RenderedCard {
  index: number;
  classes: string;
  busy: boolean;
  fields: Record<string, { value: string; text: string }>;
  /** Raw values of the per-layer view's bars (empty without one). */
  layerValues: string[];
}

/** Images in the shape `setInputFiles` and the file chooser take. */
export function asFiles(images: readonly FixtureImage[]) {
  return images.map((i) => ({ name: i.name, mimeType: i.mimeType, buffer: Buffer.from(i.bytes) }));
}

/** Every result card, in page order. */
export async function renderedCards(page: Page): Promise<RenderedCard[]> {
  return await page.$$eval("#results .card", (cards) =>
    cards.map((c) => ({
      index: Number((c as HTMLElement).dataset.index),
      classes: c.className,
      busy: c.getAttribute("aria-busy") === "true",
      fields: Object.fromEntries(
        [...c.querySelectorAll<HTMLElement>("[data-field]")].map((d) => [
          d.dataset.field,
          { value: d.dataset.value ?? "", text: d.textContent ?? "" },
        ]),
      ),
      layerValues: [...c.querySelectorAll<HTMLElement>(".layer-bars .layer-value")].map((v) =>
        v.dataset.value ?? ""
      ),
    })));
}

/** Waits until `n` cards exist and none is still pending. */
export async function waitUntilSettled(page: Page, n: number): Promise<void> {
  await page.waitForFunction(
    (count) =>
      document.querySelectorAll("#results .card").length === count &&
      document.querySelectorAll("#results .card.pending").length === 0,
    n,
    { timeout: 20_000 },
  );
}

/** Opens the playground and waits until its model and method pickers are filled. */
export async function openPlayground(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector("#model:not([disabled])");
  await page.waitForSelector("#method:not([disabled])");
}
