/**
 * Opening a parsed spec as a random-access source of images.
 * @module
 */
import type { DecodedImage } from "../image/types.ts";
import { type Decoder, defaultDecoder, listImageFiles } from "./files.ts";
import { cropPlan, luma, shrinkSquare } from "./crops.ts";
import { grayToImage } from "./gray.ts";
import { readIdx } from "./idx.ts";
import { loadMnist, MNIST_SIZE } from "./mnist.ts";
import { uniformNoise } from "./noise.ts";
import type { SpecKind } from "./spec.ts";

/** One image of a source. */
export interface SourceItem {
  readonly image: DecodedImage;
  readonly label?: number;
}

/** Random access to the images a spec denotes (before slicing). */
export interface Source {
  readonly count: number;
  /** Stable name of image `i`: a file path, or `<spec>#<i>` for arrays. */
  name(i: number): string;
  read(i: number): Promise<SourceItem>;
}

/** Options shared by all sources. */
export interface SourceOptions {
  /** Largest decoded image accepted, in pixels (passed to the decoder). */
  readonly maxPixels?: number;
  /** Replaces the project decoder (tests). */
  readonly decode?: Decoder;
}

/** Opens a source; throws an Error with the reason. */
export function openSource(base: string, src: SpecKind, opts: SourceOptions = {}): Promise<Source> {
  switch (src.kind) {
    case "u8":
      return openU8(base, src.path, src.height, src.width);
    case "idx":
      return openIdx(src.name, src.path);
    case "mnist":
      return openMnist();
    case "noise":
      return Promise.resolve(planes(base, src.count, src.height, src.width, (i) => ({
        plane: uniformNoise(src.seed, i, src.height, src.width),
      })));
    case "crops":
      return openCrops(base, src.path, src.count, src.height, src.width, src.seed, opts);
    case "path":
      return openFiles(src.path, opts);
  }
}

function planes(
  base: string,
  count: number,
  height: number,
  width: number,
  get: (i: number) => { plane: Uint8Array; label?: number },
): Source {
  return {
    count,
    name: (i) => `${base}#${i}`,
    read: (i) => {
      const { plane, label } = get(i);
      const image = grayToImage(plane, height, width);
      return Promise.resolve(label === undefined ? { image } : { image, label });
    },
  };
}

async function openU8(base: string, path: string, h: number, w: number): Promise<Source> {
  const bytes = await Deno.readFile(path);
  if (bytes.length % (h * w) !== 0) {
    throw new Error(`file size ${bytes.length} is not a multiple of ${h * w}`);
  }
  return planes(base, bytes.length / (h * w), h, w, (i) => ({
    plane: bytes.subarray(i * h * w, (i + 1) * h * w),
  }));
}

/** The labels file next to an images file, by the MNIST naming convention. */
export function labelsPathFor(imagesPath: string): string | undefined {
  const p = imagesPath.replace(/images-idx3-ubyte/, "labels-idx1-ubyte");
  return p === imagesPath ? undefined : p;
}

async function openIdx(base: string, path: string): Promise<Source> {
  const images = await readIdx(path);
  if (images.dims.length !== 3) {
    throw new Error(`expected IDX images of rank 3 (N×H×W), got dims ${images.dims.join("x")}`);
  }
  const [n, h, w] = images.dims;
  let labels: Uint8Array | undefined;
  const lp = labelsPathFor(path);
  if (lp && (await exists(lp))) {
    const l = await readIdx(lp);
    if (l.dims.length !== 1 || l.dims[0] !== n) {
      throw new Error(`labels file ${lp} has dims ${l.dims.join("x")}, expected ${n}`);
    }
    labels = l.data;
  }
  return planes(base, n, h, w, (i) => ({
    plane: images.data.subarray(i * h * w, (i + 1) * h * w),
    label: labels?.[i],
  }));
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

async function openMnist(): Promise<Source> {
  const digits = await loadMnist();
  return planes(
    "mnist",
    digits.count,
    MNIST_SIZE,
    MNIST_SIZE,
    (i) => ({ plane: digits.plane(i), label: digits.label(i) }),
  );
}

async function openFiles(path: string, opts: SourceOptions): Promise<Source> {
  const files = await listImageFiles(path);
  return {
    count: files.length,
    name: (i) => files[i],
    read: async (i) => {
      const decode = opts.decode ?? (await defaultDecoder());
      const bytes = await Deno.readFile(files[i]);
      return { image: await decode(bytes, files[i], { maxPixels: opts.maxPixels }) };
    },
  };
}

async function openCrops(
  base: string,
  path: string,
  count: number,
  h: number,
  w: number,
  seed: number,
  opts: SourceOptions,
): Promise<Source> {
  const files = await listImageFiles(path);
  if (files.length === 0) throw new Error("no image files to crop");
  // Decoded on the first read only, so counting a crop set stays cheap.
  let planesP: Promise<Array<{ plane: Float32Array; width: number; height: number }>> | undefined;
  const load = () =>
    planesP ??= (async () => {
      const decode = opts.decode ?? (await defaultDecoder());
      const out = [];
      for (const f of files) {
        const image = await decode(await Deno.readFile(f), f, { maxPixels: opts.maxPixels });
        out.push({ plane: luma(image), width: image.width, height: image.height });
      }
      return out;
    })();
  return {
    count,
    name: (i) => `${base}#${i}`,
    read: async (i) => {
      const sources = await load();
      const c = cropPlan(seed, i, sources, h, w);
      const s = sources[c.source];
      return { image: grayToImage(shrinkSquare(s.plane, s.width, c.x0, c.y0, c.side, h, w), h, w) };
    },
  };
}
