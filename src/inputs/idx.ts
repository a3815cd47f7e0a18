/**
 * IDX files (the MNIST / Fashion-MNIST container), plain or gzipped.
 * Format: 2 zero bytes, a type byte (0x08 = unsigned byte), a rank byte, then `rank` big-endian
 * uint32 dimensions, then the data row-major.
 * @module
 */

/** A parsed IDX array of unsigned bytes. */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

/** True when the bytes start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Gunzips bytes with the platform's DecompressionStream. */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Parses an IDX byte buffer (already gunzipped); throws an Error with the reason. */
export function parseIdx(bytes: Uint8Array): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error("not an IDX file (bad magic number)");
  }
  if (bytes[2] !== 0x08) {
    throw new Error(`IDX element type 0x${bytes[2].toString(16)} is not supported (only ubyte)`);
  }
  const rank = bytes[3];
  const header = 4 + 4 * rank;
  if (rank === 0 || bytes.length < header) throw new Error("truncated IDX header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - header !== size) {
    throw new Error(
      `IDX dims ${dims.join("x")} need ${size} data bytes, file has ${bytes.length - header}`,
    );
  }
  return { dims, data: bytes.subarray(header) };
}

/** Reads and parses an IDX file, gunzipping it when it is gzipped. */
export async function readIdx(path: string): Promise<IdxArray> {
  let bytes: Uint8Array = await Deno.readFile(path);
  if (isGzip(bytes)) bytes = await gunzip(bytes);
  return parseIdx(bytes);
}
