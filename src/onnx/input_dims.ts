/**
 * The dims a model declares for a graph input, read from its ONNX value info (before any shape
 * probe): the batch size of fixed-batch exports, the C, H, W a tool reports.
 * @module
 */
import type { ModelProto } from "./proto.ts";

/** protobufjs decodes int64 as a number, or as a Long object when it does not fit one. */
function dimNumber(x: unknown): number {
  if (typeof x === "number") return x;
  const long = x as { toNumber?: () => number } | null | undefined;
  return typeof long?.toNumber === "function" ? long.toNumber() : Number.NaN;
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
  const dims = input?.type?.tensorType?.shape?.dim;
  if (!dims) return undefined;
  return dims.map((d) => {
    if (d.dimParam) return undefined;
    const n = dimNumber(d.dimValue ?? 0);
    return n > 0 ? n : undefined;
  });
}

/** The input's declared batch size, if it is a fixed number. */
export function staticBatch(model: ModelProto, name: string): number | undefined {
  return declaredDims(model, name)?.[0];
}
