/**
 * The gradient rule table: one entry per ONNX op. Ops that carry no gradient are marked
 * explicitly; an op absent from the table fails loudly when a gradient must flow through it.
 * @module
 */
import { NO_GRADIENT, type RuleEntry } from "./types.ts";
import { relu } from "./rules/activation.ts";
import { conv } from "./rules/conv.ts";
import { add, div, mul, neg, passThrough, sub } from "./rules/elementwise.ts";
import { gemm } from "./rules/linear.ts";
import { batchNormalization } from "./rules/norm.ts";
import { globalAveragePool } from "./rules/pool.ts";
import { reshapeBack } from "./rules/shape.ts";

/** Op type → gradient rule. */
export const RULES: Readonly<Record<string, RuleEntry>> = {
  // Arithmetic and pass-through
  Add: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  Neg: neg,
  Identity: passThrough,
  Dropout: passThrough,
  Cast: passThrough,
  // Activations
  Relu: relu,
  // Convolution, linear, normalization, pooling
  Conv: conv,
  Gemm: gemm,
  BatchNormalization: batchNormalization,
  GlobalAveragePool: globalAveragePool,
  // Data movement
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  // No gradient: shape plumbing, comparisons, constants, index outputs
  Shape: NO_GRADIENT,
  Size: NO_GRADIENT,
  Constant: NO_GRADIENT,
  ConstantOfShape: NO_GRADIENT,
  Range: NO_GRADIENT,
  Equal: NO_GRADIENT,
  Greater: NO_GRADIENT,
  GreaterOrEqual: NO_GRADIENT,
  Less: NO_GRADIENT,
  LessOrEqual: NO_GRADIENT,
  Not: NO_GRADIENT,
  And: NO_GRADIENT,
  Or: NO_GRADIENT,
  ArgMax: NO_GRADIENT,
  ArgMin: NO_GRADIENT,
  NonZero: NO_GRADIENT,
  Sign: NO_GRADIENT,
  Floor: NO_GRADIENT,
  Ceil: NO_GRADIENT,
  Round: NO_GRADIENT,
};

/** Ops with a rule or a no-gradient marker, sorted. */
export function supportedOps(): string[] {
  return Object.keys(RULES).sort();
}
