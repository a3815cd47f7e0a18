/**
 * Image files and folders of images.
 * @module
 */
import type { DecodedImage } from "../image/types.ts";

/** Extensions of the formats the decoder accepts (lower case, with the dot). */
export const IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff"] as const;

/** Decodes one encoded image; the project's decoder is `decodeImage` in src/image/decode.ts. */
export type Decoder = (
  bytes: Uint8Array,
  name: string,
  opts: { maxPixels?: number },
) => DecodedImage | Promise<DecodedImage>;

/** True when the file name has an image extension. */
export function isImageFile(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/**
 * Lists a path: a file is returned as is (whatever its extension, since the user named it);
 * a folder is walked recursively, image files only, sorted by path (code-unit order) so runs
 * are reproducible across filesystems.
 */
export async function listImageFiles(path: string): Promise<string[]> {
  const info = await Deno.stat(path);
  if (info.isFile) return [path];
  if (!info.isDirectory) throw new Error("not a file or folder");
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      const full = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(full);
      else if (entry.isFile && isImageFile(entry.name)) out.push(full);
    }
  };
  await walk(path.replace(/\/+$/, "") || "/");
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Pixel limit for local files when the caller sets none (local files are trusted more than uploads). */
export const DEFAULT_MAX_PIXELS = 100_000_000;

let projectDecoder: Promise<Decoder> | undefined;

/** The project's decoder, loaded on first use so gray-only datasets never load imagescript. */
export function defaultDecoder(): Promise<Decoder> {
  projectDecoder ??= import("../image/decode.ts").then((m): Decoder => (bytes, name, opts) =>
    m.decodeImage(bytes, name, { maxPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS })
  );
  return projectDecoder;
}
