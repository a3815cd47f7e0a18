/**
 * The import graph of `src/` between directories (layers), read from the source text: every
 * relative `import … from`, `export … from` and `import("…")` specifier, type-only ones
 * included (a type import still couples two layers). Files directly in `src/` are their own
 * nodes (`errors.ts`, `config.ts`, …).
 * @module
 */
import { dirname, join, relative, resolve } from "node:path";

/** A directory-level edge with one file-level import that causes it. */
export interface LayerEdge {
  readonly from: string;
  readonly to: string;
  /** One example: "src/a/x.ts → src/b/y.ts". */
  readonly example: string;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;

/** Every `.ts` file under `dir`, recursively. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) out.push(...sourceFiles(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out.sort();
}

/** The layer of a file under `root`: its first directory, or the file itself when it sits in `root`. */
export function layerOf(root: string, file: string): string {
  const parts = relative(root, file).split(/[\\/]/);
  return parts[0];
}

/** Directory edges of the tree at `root` (one entry per ordered pair, first example kept). */
export function layerEdges(root: string): LayerEdge[] {
  const abs = resolve(root);
  const edges = new Map<string, LayerEdge>();
  for (const file of sourceFiles(abs)) {
    const text = Deno.readTextFileSync(file);
    for (const m of text.matchAll(SPECIFIER)) {
      const target = resolve(dirname(file), m[1]);
      if (!target.startsWith(abs)) continue;
      const from = layerOf(abs, file);
      const to = layerOf(abs, target);
      const key = `${from}\u0000${to}`;
      if (from === to || edges.has(key)) continue;
      edges.set(key, {
        from,
        to,
        example: `${relative(abs, file)} → ${relative(abs, target)}`,
      });
    }
  }
  return [...edges.values()];
}

/** Strongly connected components with more than one layer: each is an import cycle. */
export function cycles(edges: readonly LayerEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const nodes = [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort();
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1) out.push(scc.sort());
  };
  for (const v of nodes) if (!index.has(v)) visit(v);
  return out;
}
