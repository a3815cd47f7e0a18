/**
 * Tensor element types and static shapes: what the graph compiler knows about every tensor of a
 * model. Found by the runtime's shape probe (`src/runtime/shapes.ts`) and read by the gradient
 * compiler and the graph builders, which therefore need no onnxruntime.
 * @module
 */

/** Element types the project exchanges with graphs; any other fails loudly where it appears. */
export const DTYPES = ["float32", "int64", "int32", "bool", "uint8"] as const;
/** An element type the project exchanges with graphs. */
export type DType = typeof DTYPES[number];

/** Element type and dims of a tensor; -1 marks the batch-dependent dimension. */
export interface TensorInfo {
  readonly type: DType;
  readonly dims: readonly number[];
}

/** Tensor name → info, for every node output and graph input. */
export type ShapeMap = ReadonlyMap<string, TensorInfo>;
