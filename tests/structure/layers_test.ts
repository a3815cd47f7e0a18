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
  assert.ok(has("serve", "engine"), "serve imports engine");
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

/**
 * Which layers each layer of `src/` may import (its own directory aside). The order is the one in
 * docs/architecture.md: entry points on top, `onnx/` and `contract/` at the bottom. Graph building
 * (`si/`) and the gradient compiler (`grad/`) sit below `runtime/`'s users and never import it, so
 * they build and test without onnxruntime.
 */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  cli: ["http", "serve", "eval", "models", "inputs", "image", "engine", "si", "grad", "runtime"]
    .concat(["contract", "onnx", "config.ts", "errors.ts", "hash.ts", "web_worker.ts"]),
  http: ["serve", "models", "image", "contract", "config.ts", "errors.ts", "hash.ts"],
  serve: ["engine", "models", "image", "runtime", "contract", "config.ts", "errors.ts"]
    .concat(["hash.ts", "web_worker.ts"]),
  eval: ["models", "inputs", "image", "contract", "hash.ts"],
  inputs: ["image", "errors.ts"],
  models: ["image", "contract", "onnx", "errors.ts", "hash.ts"],
  engine: ["si", "grad", "runtime", "contract", "onnx", "hash.ts", "web_worker.ts"],
  si: ["grad", "contract", "onnx"],
  grad: ["onnx"],
  runtime: ["contract", "onnx", "hash.ts"],
  image: ["errors.ts", "web_worker.ts"],
  "config.ts": ["contract"],
  contract: [],
  onnx: [],
};

/** Layers reachable from `start` along `edges` (not including `start` itself). */
function reachable(edges: readonly LayerEdge[], start: string): Set<string> {
  const seen = new Set<string>();
  const todo = [start];
  while (todo.length > 0) {
    const at = todo.pop()!;
    for (const e of edges) {
      if (e.from === at && !seen.has(e.to)) {
        seen.add(e.to);
        todo.push(e.to);
      }
    }
  }
  return seen;
}

Deno.test("each src/ layer imports only the layers below it", () => {
  const bad = layerEdges(SRC).filter((e) =>
    e.from in ALLOWED ? !ALLOWED[e.from].includes(e.to) : !e.from.endsWith(".ts")
  ).map((e) => `${e.from} → ${e.to} (${e.example})`);
  assert.deepEqual(bad, [], `imports against the layer order:\n${bad.join("\n")}`);
});

Deno.test("the gradient compiler and graph building never reach src/runtime/", () => {
  const edges = layerEdges(SRC);
  for (const layer of ["grad", "si", "onnx", "contract"]) {
    assert.ok(!reachable(edges, layer).has("runtime"), `src/${layer}/ reaches src/runtime/`);
  }
  const fake = (from: string, to: string): LayerEdge => ({ from, to, example: "" });
  assert.ok(reachable([fake("grad", "onnx"), fake("onnx", "runtime")], "grad").has("runtime"));
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
