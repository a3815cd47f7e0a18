import assert from "node:assert/strict";
import { cycles, type LayerEdge, layerEdges, sourceFiles } from "./imports.ts";
import { functionSpans } from "./functions.ts";

const SRC = new URL("../../src/", import.meta.url).pathname;

/** Longest function allowed in src/, in lines. */
const MAX_FUNCTION_LINES = 80;

Deno.test("cycles() finds a cycle through three layers and none in a chain", () => {
  const e = (from: string, to: string): LayerEdge => ({ from, to, example: "" });
  assert.deepEqual(cycles([e("a", "b"), e("b", "c"), e("c", "d")]), []);
  assert.deepEqual(cycles([e("a", "b"), e("b", "c"), e("c", "a"), e("c", "d")]), [["a", "b", "c"]]);
});

Deno.test("layerEdges() sees static, type-only and dynamic imports between directories", () => {
  const edges = layerEdges(SRC);
  const has = (from: string, to: string) => edges.some((e) => e.from === from && e.to === to);
  assert.ok(has("si", "onnx"), "si imports onnx");
  assert.ok(has("serve", "models"), "serve imports models (types)");
  assert.ok(has("serve", "si"), "serve imports si");
});

Deno.test("src/ has no import cycle between directories", () => {
  const edges = layerEdges(SRC);
  const found = cycles(edges);
  const explain = found.map((c) =>
    `${c.join(" ↔ ")}:\n` +
    edges.filter((e) => c.includes(e.from) && c.includes(e.to)).map((e) => `  ${e.example}`)
      .join("\n")
  );
  assert.deepEqual(explain, [], `import cycles between src/ directories:\n${explain.join("\n")}`);
});

Deno.test("only src/runtime/ imports onnxruntime", () => {
  const root = new URL("../../", import.meta.url).pathname;
  const offenders = ["src", "bench", "client", "tests", "tools"].flatMap((d) =>
    sourceFiles(root + d).filter((f) =>
      !f.startsWith(root + "src/runtime/") &&
      /from\s+["']onnxruntime|import\(\s*["']onnxruntime/.test(Deno.readTextFileSync(f))
    )
  );
  assert.deepEqual(offenders, []);
});

Deno.test(`no function in src/ is longer than ${MAX_FUNCTION_LINES} lines`, () => {
  const long = sourceFiles(SRC).flatMap((f) =>
    functionSpans(f.slice(SRC.length), Deno.readTextFileSync(f))
      .filter((s) => s.lines > MAX_FUNCTION_LINES)
      .map((s) => `${s.file}:${s.line} ${s.name} (${s.lines} lines)`)
  );
  assert.deepEqual(long, []);
});

Deno.test("functionSpans() measures declarations, arrows and methods", () => {
  const text =
    "function f() {\n  return 1;\n}\nconst g = () => {\n};\nclass A {\n  m() {\n  }\n}\n";
  const spans = functionSpans("x.ts", text).map((s) => [s.name, s.line, s.lines]);
  assert.deepEqual(spans, [["f", 1, 3], ["const g = () => {", 4, 2], ["m() {", 7, 2]]);
});
