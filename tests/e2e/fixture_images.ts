/**
 * PNG fixtures for the browser tests, made from the raw uint8 [N, 28, 28] fixture sets.
 * imagescript is used here, in the test only, to encode the PNGs.
 * @module
 */
import { Image } from "imagescript";

const FIXTURES = new URL("../fixtures/wrn40-fmnist/", import.meta.url);
const SIDE = 28;

/** An encoded test image. */
export interface FixtureImage {
  readonly name: string;
  readonly mimeType: string;
  readonly bytes: Uint8Array;
}

/** Encodes the first `count` images of a `.u8` set as grey PNGs named `<prefix>-<i>.png`. */
export async function u8Pngs(file: string, count: number, prefix: string): Promise<FixtureImage[]> {
  const raw = await Deno.readFile(new URL(file, FIXTURES));
  const images: FixtureImage[] = [];
  for (let n = 0; n < count; n++) {
    const img = new Image(SIDE, SIDE);
    const plane = raw.subarray(n * SIDE * SIDE, (n + 1) * SIDE * SIDE);
    for (let p = 0; p < plane.length; p++) {
      const v = plane[p];
      img.bitmap.set([v, v, v, 255], p * 4);
    }
    images.push({ name: `${prefix}-${n}.png`, mimeType: "image/png", bytes: await img.encode() });
  }
  return images;
}
