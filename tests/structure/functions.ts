/**
 * Function lengths of TypeScript sources, measured on the syntax tree that `deno lint` parses
 * (declarations, expressions, arrows and class methods; a nested function counts on its own
 * and inside its parent).
 * @module
 */

/** One function of a source file. */
export interface FunctionSpan {
  readonly file: string;
  /** 1-based line of the function's first line. */
  readonly line: number;
  readonly lines: number;
  /** The declared name, or the first line of the function when it has none. */
  readonly name: string;
}

function lengthPlugin(found: { start: number; end: number; name: string }[]): Deno.lint.Plugin {
  const record = (node: Deno.lint.Node, name: string) => {
    found.push({ start: node.range[0], end: node.range[1], name });
  };
  return {
    name: "structure",
    rules: {
      "function-length": {
        create() {
          return {
            FunctionDeclaration(node) {
              record(node, node.id?.name ?? "");
            },
            FunctionExpression(node) {
              record(node, node.id?.name ?? "");
            },
            ArrowFunctionExpression(node) {
              record(node, "");
            },
          };
        },
      },
    },
  };
}

/** Every function of one source text. */
export function functionSpans(file: string, text: string): FunctionSpan[] {
  const found: { start: number; end: number; name: string }[] = [];
  Deno.lint.runPlugin(lengthPlugin(found), file, text);
  const lineAt = (offset: number) => text.slice(0, offset).split("\n").length;
  return found.map((f) => {
    const line = lineAt(f.start);
    return {
      file,
      line,
      lines: lineAt(f.end) - line + 1,
      name: f.name || text.split("\n")[line - 1].trim().slice(0, 60),
    };
  });
}
