/**
 * Gradient rule of Einsum, for the two-operand contractions exporters emit for batched matrix
 * products (maxvit_t's attention: `bghid,bghjd->bghij` and `bghij,bghjd->bghid`).
 * @module
 */
import { attrString } from "../../onnx/tensor.ts";
import type { GradRule } from "../types.ts";

/** The parsed terms of a supported equation. */
interface Terms {
  readonly a: string;
  readonly b: string;
  readonly out: string;
}

/**
 * Parses an explicit two-operand equation whose every index is one letter used at most once per
 * term, and whose every input index also appears in the other input or in the output (so each
 * input-gradient is again such an einsum). Anything else is rejected by the caller, naming it.
 */
export function einsumTerms(equation: string): Terms | string {
  const eq = equation.replace(/\s+/g, "");
  const m = /^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]*)$/.exec(eq);
  if (!m) {
    return 'only explicit two-operand equations without ellipsis (like "bij,bjk->bik") are supported';
  }
  const [, a, b, out] = m;
  for (const t of [a, b, out]) {
    if (new Set(t).size !== t.length) return `index repeated within the term "${t}" (a trace)`;
  }
  for (const [t, others] of [[a, b + out], [b, a + out]]) {
    const alone = [...t].filter((c) => !others.includes(c));
    if (alone.length) return `index "${alone.join("")}" of "${t}" is summed within one operand`;
  }
  return { a, b, out };
}

/** Einsum `A,B->Y`: dA = einsum(dY, B → A), dB = einsum(A, dY → B). */
export const einsum: GradRule = (ctx) => {
  const { b, node } = ctx;
  const equation = attrString(node, "equation", "");
  const terms = einsumTerms(equation);
  if (typeof terms === "string") {
    return ctx.fail(`unsupported Einsum equation "${equation}": ${terms}`);
  }
  const dy = ctx.GO(0)!;
  const eq = (x: string, y: string, z: string) => ({ equation: `${x},${y}->${z}` });
  return [
    ctx.needs(0)
      ? b.op("Einsum", [dy, ctx.I(1)], eq(terms.out, terms.b, terms.a), "einsum_grad")
      : null,
    ctx.needs(1)
      ? b.op("Einsum", [ctx.I(0), dy], eq(terms.a, terms.out, terms.b), "einsum_grad")
      : null,
  ];
};
