// client/ndjson.ts
async function* readNdjson(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let finished = false;
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {
        stream: true
      });
      let newline;
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
    if (!finished) await reader.cancel().catch(() => {
    });
    reader.releaseLock();
  }
}
function parseLine(line) {
  try {
    return JSON.parse(line);
  } catch {
    throw new SyntaxError(`Malformed NDJSON line: ${line.slice(0, 120)}`);
  }
}

// client/types.ts
var METHODS = [
  "si",
  "si_a",
  "gaia_z",
  "gaia_a",
  "msp",
  "maxlogit",
  "energy",
  "gradnorm",
  "fused"
];
var SETTING_LIMITS = {
  alpha: {
    min: 0,
    max: 100
  },
  iterations: {
    min: 1,
    max: 10
  }
};
function alphaProblem(text) {
  if (text.trim() === "") return void 0;
  const { min, max } = SETTING_LIMITS.alpha;
  const alpha = Number(text);
  return alpha > min && alpha <= max ? void 0 : `Invalid parameter "alpha": expected a number in (${min}, ${max}], got "${text}"`;
}
function isErrorLine(line) {
  return "error" in line;
}
export {
  METHODS,
  alphaProblem,
  isErrorLine,
  readNdjson
};
