/**
 * Conversions between ONNX TensorProto and typed arrays, and attribute access.
 * @module
 */
import { type AttributeProto, type NodeProto, onnx, type TensorProto } from "./proto.ts";

/** ONNX element type codes used by the project. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
} as const;

/** Numeric contents of a tensor: floats as Float32Array (or Float64Array), integers as numbers. */
export type TensorValues = Float32Array | Float64Array | number[];

/** Reads a TensorProto's contents (raw_data or typed fields). Integers come back as numbers. */
export function tensorValues(t: TensorProto): TensorValues {
  const dims = (t.dims ?? []).map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  switch (t.dataType) {
    case DataType.FLOAT: {
      if (!view) return Float32Array.from(t.floatData ?? []);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case DataType.DOUBLE: {
      if (!view) return Float64Array.from(t.doubleData ?? []);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case DataType.INT64: {
      if (!view) return (t.int64Data ?? []).map(Number);
      return Array.from({ length: n }, (_, i) => Number(view.getBigInt64(i * 8, true)));
    }
    case DataType.INT32:
    case DataType.UINT8:
    case DataType.BOOL: {
      if (!view) return (t.int32Data ?? []).map(Number);
      const size = t.dataType === DataType.INT32 ? 4 : 1;
      return Array.from(
        { length: n },
        (_, i) => size === 4 ? view.getInt32(i * 4, true) : view.getUint8(i),
      );
    }
    default:
      throw new Error(`Unsupported tensor element type ${t.dataType} in tensor "${t.name}"`);
  }
}

/** Builds a float32 TensorProto. */
export function floatTensor(name: string, dims: readonly number[], data: ArrayLike<number>) {
  const f = Float32Array.from(data);
  return onnx.TensorProto.create({
    name,
    dims: [...dims],
    dataType: DataType.FLOAT,
    rawData: new Uint8Array(f.buffer),
  });
}

/** Builds an int64 TensorProto. */
export function int64Tensor(name: string, dims: readonly number[], data: ArrayLike<number>) {
  const a = BigInt64Array.from(Array.from(data, (v) => BigInt(v)));
  return onnx.TensorProto.create({
    name,
    dims: [...dims],
    dataType: DataType.INT64,
    rawData: new Uint8Array(a.buffer),
  });
}

/** Looks up a node attribute. */
export function getAttr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

/** An INT attribute, or `fallback`. */
export function attrInt(node: NodeProto, name: string, fallback: number): number {
  const a = getAttr(node, name);
  return a ? Number(a.i) : fallback;
}

/** A FLOAT attribute, or `fallback`. */
export function attrFloat(node: NodeProto, name: string, fallback: number): number {
  const a = getAttr(node, name);
  return a ? Number(a.f) : fallback;
}

/** An INTS attribute, or `fallback`. */
export function attrInts(node: NodeProto, name: string, fallback: number[] | undefined): number[] {
  const a = getAttr(node, name);
  return a ? (a.ints ?? []).map(Number) : (fallback ?? []);
}

/** A STRING attribute decoded as text, or `fallback`. */
export function attrString(node: NodeProto, name: string, fallback: string): string {
  const a = getAttr(node, name);
  return a?.s ? new TextDecoder().decode(a.s) : fallback;
}

/** Attribute values accepted by {@link makeAttrs}. */
export type AttrValue = number | number[] | string | TensorProto | { float: number } | {
  floats: number[];
};

/** Builds ONNX attributes from a plain object. Integers are INT(S); use `{float}` for FLOAT. */
export function makeAttrs(attrs: Record<string, AttrValue>): AttributeProto[] {
  const T = onnx.AttributeProto.AttributeType;
  return Object.entries(attrs).map(([name, v]) => {
    if (typeof v === "number") return { name, type: T.INT, i: v };
    if (typeof v === "string") return { name, type: T.STRING, s: new TextEncoder().encode(v) };
    if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
    if ("float" in v) return { name, type: T.FLOAT, f: v.float };
    if ("floats" in v) return { name, type: T.FLOATS, floats: v.floats };
    return { name, type: T.TENSOR, t: v };
  });
}
