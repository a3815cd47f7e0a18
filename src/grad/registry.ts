/**
 * The gradient rule table: one entry per ONNX op. Ops that carry no gradient are marked
 * explicitly; an op absent from the table fails loudly when a gradient must flow through it.
 * No rule may emit Sign (it falls back to the CPU on WebGPU) or any com.microsoft op.
 * @module
 */
import { NO_GRADIENT, type RuleEntry } from "./types.ts";
import {
  clip,
  hardSigmoid,
  hardSwish,
  leakyRelu,
  relu,
  sigmoid,
  tanh,
} from "./rules/activation.ts";
import { conv } from "./rules/conv.ts";
import { add, div, mul, neg, passThrough, sub } from "./rules/elementwise.ts";
import { gather, slice } from "./rules/indexing.ts";
import { gemm, matMul } from "./rules/linear.ts";
import { einsum } from "./rules/einsum.ts";
import { erf, exp, log, mean, pow, sqrt, sum } from "./rules/math.ts";
import {
  batchNormalization,
  groupNormalization,
  instanceNormalization,
  layerNormalization,
} from "./rules/norm.ts";
import { averagePool, globalAveragePool, maxPool } from "./rules/pool.ts";
import { reduceMean, reduceSum } from "./rules/reduce.ts";
import { concat, expand, pad, reshapeBack, split, transpose } from "./rules/shape.ts";
import { logSoftmax, softmax } from "./rules/softmax.ts";

/** Op type → gradient rule. */
export const RULES: Readonly<Record<string, RuleEntry>> = {
  // Arithmetic and pass-through
  Add: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  Neg: neg,
  Sum: sum,
  Mean: mean,
  Identity: passThrough,
  Dropout: passThrough,
  Cast: passThrough,
  // Elementwise math
  Sqrt: sqrt,
  Exp: exp,
  Log: log,
  Pow: pow,
  Erf: erf,
  // Activations
  Relu: relu,
  LeakyRelu: leakyRelu,
  Clip: clip,
  Sigmoid: sigmoid,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  Tanh: tanh,
  Softmax: softmax,
  LogSoftmax: logSoftmax,
  // Convolution, linear, normalization, pooling, reductions
  Conv: conv,
  Gemm: gemm,
  MatMul: matMul,
  Einsum: einsum,
  BatchNormalization: batchNormalization,
  InstanceNormalization: instanceNormalization,
  GroupNormalization: groupNormalization,
  LayerNormalization: layerNormalization,
  GlobalAveragePool: globalAveragePool,
  AveragePool: averagePool,
  MaxPool: maxPool,
  ReduceSum: reduceSum,
  ReduceMean: reduceMean,
  // Data movement
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: transpose,
  Expand: expand,
  Concat: concat,
  Split: split,
  Slice: slice,
  Pad: pad,
  Gather: gather,
  // No gradient: shape plumbing, comparisons, constants, index outputs, random numbers
  Shape: NO_GRADIENT,
  Size: NO_GRADIENT,
  Constant: NO_GRADIENT,
  ConstantOfShape: NO_GRADIENT,
  Range: NO_GRADIENT,
  EyeLike: NO_GRADIENT,
  OneHot: NO_GRADIENT,
  Equal: NO_GRADIENT,
  Greater: NO_GRADIENT,
  GreaterOrEqual: NO_GRADIENT,
  Less: NO_GRADIENT,
  LessOrEqual: NO_GRADIENT,
  Not: NO_GRADIENT,
  And: NO_GRADIENT,
  Or: NO_GRADIENT,
  Xor: NO_GRADIENT,
  IsNaN: NO_GRADIENT,
  IsInf: NO_GRADIENT,
  ArgMax: NO_GRADIENT,
  ArgMin: NO_GRADIENT,
  NonZero: NO_GRADIENT,
  Sign: NO_GRADIENT,
  Floor: NO_GRADIENT,
  Ceil: NO_GRADIENT,
  Round: NO_GRADIENT,
  RandomNormal: NO_GRADIENT,
  RandomNormalLike: NO_GRADIENT,
  RandomUniform: NO_GRADIENT,
  RandomUniformLike: NO_GRADIENT,
};

/** Ops with a rule or a no-gradient marker, sorted. */
export function supportedOps(): string[] {
  return Object.keys(RULES).sort();
}
