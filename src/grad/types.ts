/**
 * The vocabulary of gradient rules (borrowed from onnxruntime's gradient builder):
 * `I(i)`/`O(i)` forward inputs/outputs, `GO(i)` the incoming gradient of an output, and a rule
 * returns `GI(i)` — one gradient tensor name per input, or null where none is needed.
 * @module
 */
import type { NodeProto } from "../onnx/proto.ts";
import type { GraphBuilder } from "../onnx/builder.ts";
import type { TensorInfo } from "../onnx/shapes.ts";
import type { TensorValues } from "../onnx/tensor.ts";

/** What a rule sees of the node it differentiates. */
export interface GradContext {
  readonly node: NodeProto;
  /** Emits the backward nodes. */
  readonly b: GraphBuilder;
  /** Cotangents per image in this pass (the gradient batch is seedCount × batch, seed-major). */
  readonly seedCount: number;
  /** Number of inputs the node has (trailing optional inputs may be empty strings). */
  readonly inputCount: number;
  /**
   * Forward input i as used in the backward graph: batch-dependent tensors are tiled to the
   * gradient's batch (seeds × batch) so elementwise formulas line up with `GO`.
   */
  I(i: number): string;
  /** Forward output i, tiled like {@link I}. */
  O(i: number): string;
  /** Incoming gradient of output i, or null when nothing downstream depends on it. */
  GO(i: number): string | null;
  /** Whether the gradient of input i is wanted. */
  needs(i: number): boolean;
  /** Static info of forward input i (dims with -1 for the batch dimension). */
  inInfo(i: number): TensorInfo;
  /** Static info of forward output i. */
  outInfo(i: number): TensorInfo;
  /** The compile-time value of input i when it is an initializer or Constant output. */
  constant(i: number): TensorValues | undefined;
  /** Throws an error naming the node. */
  fail(reason: string): never;
}

/** A gradient rule: one entry per forward input (null = no gradient for that input). */
export type GradRule = (ctx: GradContext) => (string | null)[];

/** Marker for ops that carry no gradient (shape plumbing, comparisons, constants). */
export const NO_GRADIENT = "no-gradient" as const;

/** A registry entry. */
export type RuleEntry = GradRule | typeof NO_GRADIENT;
