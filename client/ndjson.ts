/**
 * Incremental NDJSON parsing over a web `ReadableStream` (works in Deno, browsers and edge runtimes).
 * @module
 */

/**
 * Yields each JSON value of a newline-delimited JSON byte stream as soon as its line is complete.
 * Leaving the loop early cancels the stream, which lets the server stop work nobody will read.
 */
export async function* readNdjson(body: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let finished = false;
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      // `stream: true` keeps a UTF-8 sequence split across chunks intact.
      buffer += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) yield parseLine(line);
      }
    }
    const rest = (buffer + decoder.decode()).trim();
    if (rest) yield parseLine(rest);
    finished = true;
  } finally {
    // On early exit (break, throw) cancel so the connection closes; on normal end just release.
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new SyntaxError(`Malformed NDJSON line: ${line.slice(0, 120)}`);
  }
}
