/**
 * The dims a model declares for its graph inputs and outputs, read from the ONNX value info
 * (before any shape probe): the batch size of fixed-batch exports, the C, H, W a tool reports,
 * the class count an importer drafts from.
 * @module
 */
import type { ModelProto, ValueInfoProto } from "./proto.ts";

/** protobufjs decodes int64 as a number, or as a Long object when it does not fit one. */
function dimNumber(x: unknown): number {
  if (typeof x === "number") return x;
  const long = x as { toNumber?: () => number; low?: number; high?: number } | null | undefined;
  if (typeof long?.toNumber === "function") return long.toNumber();
  return long?.high === 0 && typeof long.low === "number" ? long.low : Number.NaN;
}

/**
 * The declared dims of a value: a positive number where fixed, undefined where symbolic
 * (`dimParam`) or unset. Empty when it has no declared shape.
 */
export function valueDims(value: ValueInfoProto): (number | undefined)[] {
  return (value.type?.tensorType?.shape?.dim ?? []).map((d) => {
    if (d.dimParam) return undefined;
    const n = dimNumber(d.dimValue ?? 0);
    return n > 0 ? n : undefined;
  });
}

/**
 * The declared dims of graph input `name`: a positive number where fixed, undefined where
 * symbolic (`dimParam`) or unset. Undefined when the input has no declared shape.
 */
export function declaredDims(
  model: ModelProto,
  name: string,
): (number | undefined)[] | undefined {
  const input = model.graph?.input?.find((i) => i.name === name);
  return input?.type?.tensorType?.shape?.dim ? valueDims(input) : undefined;
}

/** The input's declared batch size, if it is a fixed number. */
export function staticBatch(model: ModelProto, name: string): number | undefined {
  return declaredDims(model, name)?.[0];
}
