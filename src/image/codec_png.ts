/**
 * PNG decoding through imagescript's PNG codec (the same WebAssembly module `Image.decode` uses)
 * with ONE instance kept per thread. Why: `Image.decode` instantiates the module afresh for every
 * image, and V8 frees each instance's linear memory only when it collects the instance, lazily:
 * eight 4096² PNGs decoded in a row grew RSS by 1.3 GB (docs/reliability.md). A kept instance
 * stays at its high-water mark instead (about twice the largest image's RGBA size). After any
 * failure the instance is dropped, since a trap may leave its allocator inconsistent.
 * @module
 */
import pngCodec from "imagescript/wasm/node/png.js";

interface PngInstance {
  decode(bytes: Uint8Array): { width: number; height: number; framebuffer: Uint8Array };
}

let instance: PngInstance | undefined;

/** Decodes a PNG to 8-bit RGBA (a fresh buffer the caller owns); throws on corrupt data. */
export async function decodePngRgba(
  bytes: Uint8Array,
): Promise<{ width: number; height: number; data: Uint8Array }> {
  instance ??= await (pngCodec as { init(): Promise<PngInstance> }).init();
  try {
    const { width, height, framebuffer } = instance.decode(bytes);
    return { width, height, data: framebuffer };
  } catch (e) {
    instance = undefined;
    throw e;
  }
}
