/**
 * Compile-time values of shape arithmetic: integer tensors computed from `Shape` of tensors whose
 * dimensions are fixed once the input size is (Shape → Gather → Add → Div → Mul feeding a Slice's
 * starts, a Reshape's shape, …), and constants reached through `Identity` chains (exporters
 * de-duplicate equal initializers into Identity nodes, e.g. densenet121's BatchNorm scales).
 *
 * Values are evaluated element by element from the probed {@link ShapeMap}: the batch dimension
 * (-1) stays unknown (NaN), and a tensor has a value only when every element is known — so a
 * Reshape to `[Shape(x)[0], -1]` is never frozen to one batch size.
 *
 * Boundary: this module folds integer shape arithmetic and follows Identity/Constant chains only.
 * Folding float subgraphs that read only initializers (weight standardisation) into initializers
 * belongs to the initializer folding pass, not here.
 * @module
 */
import type { NodeProto } from "./proto.ts";
import type { ShapeMap } from "./shapes.ts";
import { attrInt, attrInts, getAttr, type TensorValues } from "./tensor.ts";

/** A small tensor whose elements may be unknown (NaN). */
interface Partial {
  readonly dims: readonly number[];
  readonly data: readonly number[];
}

/** What the folder needs of a graph (structurally: {@link Graph} satisfies it). */
export interface FoldSource {
  readonly producer: ReadonlyMap<string, NodeProto>;
  /** Initializer or Constant value, without folding. */
  literalValue(name: string): TensorValues | undefined;
  /** Dims of an initializer. */
  initializerDims(name: string): number[] | undefined;
}

/** Largest integer tensor the folder evaluates (shape tensors are tiny). */
const MAX_ELEMENTS = 64;

/** Evaluates shape arithmetic of one graph, memoized per tensor. */
export class ShapeFolder {
  readonly #src: FoldSource;
  readonly #shapes: ShapeMap;
  readonly #memo = new Map<string, Partial | null>();

  constructor(src: FoldSource, shapes: ShapeMap) {
    this.#src = src;
    this.#shapes = shapes;
  }

  /**
   * The compile-time value of a tensor: an initializer or Constant reached through Identity
   * nodes (any element type), or integer shape arithmetic whose every element is known.
   */
  value(name: string): TensorValues | undefined {
    const direct = this.#followIdentity(name);
    if (direct) return direct;
    const p = this.#partial(name);
    if (!p || p.data.some((v) => Number.isNaN(v))) return undefined;
    return [...p.data];
  }

  #followIdentity(name: string): TensorValues | undefined {
    let n = name;
    for (let hops = 0; hops < 64; hops++) {
      const v = this.#src.literalValue(n);
      if (v) return v;
      const p = this.#src.producer.get(n);
      if (p?.opType !== "Identity") return undefined;
      n = p.input![0];
    }
    return undefined;
  }

  #partial(name: string): Partial | null {
    if (!name) return null;
    if (this.#memo.has(name)) return this.#memo.get(name)!;
    this.#memo.set(name, null); // cycle guard
    const result = this.#evaluate(name);
    this.#memo.set(name, result);
    return result;
  }

  #evaluate(name: string): Partial | null {
    const literal = this.#src.literalValue(name);
    if (literal) {
      if (literal instanceof Float32Array || literal instanceof Float64Array) return null;
      if (literal.length > MAX_ELEMENTS) return null;
      const dims = this.#src.initializerDims(name) ?? this.#constantDims(name, literal.length);
      return { dims, data: literal };
    }
    const node = this.#src.producer.get(name);
    if (!node) return null;
    const info = this.#shapes.get(name);
    if (info && info.type !== "int64" && info.type !== "int32" && node.opType !== "Shape") {
      return null;
    }
    const ins = (node.input ?? []).map((i) => this.#partial(i));
    return evaluateNode(node, ins, (i) => this.#shapes.get(node.input![i])?.dims);
  }

  #constantDims(name: string, length: number): number[] {
    const p = this.#src.producer.get(name);
    const t = p ? getAttr(p, "value")?.t : undefined;
    return t ? (t.dims ?? []).map(Number) : [length];
  }
}

type DimsOf = (input: number) => readonly number[] | undefined;

function evaluateNode(node: NodeProto, ins: (Partial | null)[], dimsOf: DimsOf): Partial | null {
  const op = node.opType;
  if (op === "Shape") return shapeOf(node, dimsOf(0));
  if (op === "Size") {
    const d = dimsOf(0);
    return d ? { dims: [], data: [d.reduce((a, b) => (b < 0 ? NaN : a * b), 1)] } : null;
  }
  if (ins.slice(0, requiredInputs(op)).some((v) => !v)) return null;
  const v = ins as Partial[];
  switch (op) {
    case "Identity":
    case "Cast":
      return v[0];
    case "Add":
    case "Sub":
    case "Mul":
    case "Div":
    case "Equal":
    case "Max":
    case "Min":
      return broadcast(v[0], v[1], ARITH[op]);
    case "Where":
      return where(v[0], v[1], v[2]);
    case "Gather":
      return gather(v[0], v[1], attrInt(node, "axis", 0));
    case "Unsqueeze":
      return reshapeTo(v[0], unsqueezeDims(v[0].dims, v[1]?.data ?? attrInts(node, "axes", [])));
    case "Squeeze":
      return squeeze(v[0], v[1]?.data ?? attrInts(node, "axes", []));
    case "Concat":
      return concat(v, attrInt(node, "axis", 0));
    case "Slice":
      return sliceN(v[0], v.slice(1));
    case "Reshape":
      return reshape(v[0], v[1], attrInt(node, "allowzero", 0));
    case "Transpose":
      return transpose(v[0], attrInts(node, "perm", []));
    case "ConstantOfShape":
      return constantOfShape(node, v[0]);
    case "Mod":
      return broadcast(v[0], v[1], attrInt(node, "fmod", 0) ? (a, b) => a % b : pyMod);
    case "Neg":
      return { dims: v[0].dims, data: v[0].data.map((x) => -x) };
    default:
      return null;
  }
}

function requiredInputs(op: string | null | undefined): number {
  return op === "Where" ? 3 : op === "Slice" ? 3 : op === "Unsqueeze" || op === "Squeeze" ||
      op === "Identity" || op === "Cast" || op === "Neg" || op === "Transpose" ||
      op === "ConstantOfShape"
    ? 1
    : op === "Concat"
    ? Infinity
    : 2;
}

function shapeOf(node: NodeProto, dims: readonly number[] | undefined): Partial | null {
  if (!dims) return null;
  const rank = dims.length;
  const clamp = (k: number) => Math.min(rank, Math.max(0, k < 0 ? k + rank : k));
  const start = clamp(attrInt(node, "start", 0)), end = clamp(attrInt(node, "end", rank));
  const data = dims.slice(start, end).map((d) => (d < 0 ? NaN : d));
  return { dims: [data.length], data };
}

/** ONNX integer division truncates toward zero (onnxruntime's C++ `/`). */
const ARITH: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => Math.trunc(a / b),
  Equal: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Number(a === b)),
  Max: Math.max,
  Min: Math.min,
};

function broadcastDims(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length), out: number[] = [];
  for (let k = 0; k < rank; k++) {
    const x = a[a.length - rank + k] ?? 1, y = b[b.length - rank + k] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(Math.max(x, y));
  }
  return out;
}

function indexIn(dims: readonly number[], out: readonly number[], flat: number): number {
  let idx = 0, stride = 1, rem = flat;
  const coords = out.map(() => 0);
  for (let k = out.length - 1; k >= 0; k--) {
    coords[k] = rem % out[k];
    rem = Math.floor(rem / out[k]);
  }
  for (let k = dims.length - 1; k >= 0; k--) {
    const c = coords[out.length - dims.length + k];
    idx += (dims[k] === 1 ? 0 : c) * stride;
    stride *= dims[k];
  }
  return idx;
}

function broadcast(a: Partial, b: Partial, f: (x: number, y: number) => number): Partial | null {
  const dims = broadcastDims(a.dims, b.dims);
  if (!dims) return null;
  const n = dims.reduce((x, y) => x * y, 1);
  const data = Array.from(
    { length: n },
    (_, i) => f(a.data[indexIn(a.dims, dims, i)], b.data[indexIn(b.dims, dims, i)]),
  );
  return { dims, data };
}

function where(c: Partial, x: Partial, y: Partial): Partial | null {
  const cx = broadcast(c, x, (cv, xv) => (Number.isNaN(cv) ? NaN : cv ? xv : NaN));
  const cy = broadcast(c, y, (cv, yv) => (Number.isNaN(cv) ? NaN : cv ? NaN : yv));
  if (!cx || !cy) return null;
  return broadcast(cx, cy, (p, q) => (Number.isNaN(p) ? q : p));
}

function gather(data: Partial, idx: Partial, axis: number): Partial | null {
  if (data.dims.length !== 1 || (axis !== 0 && axis !== -1)) return null;
  const n = data.dims[0];
  const out = idx.data.map((i) => data.data[i < 0 ? i + n : i]);
  if (out.some((v) => v === undefined)) return null;
  return { dims: idx.dims, data: out };
}

function unsqueezeDims(dims: readonly number[], axes: readonly number[]): number[] {
  const rank = dims.length + axes.length;
  const norm = axes.map((a) => (a < 0 ? a + rank : a));
  const out: number[] = [];
  let j = 0;
  for (let k = 0; k < rank; k++) out.push(norm.includes(k) ? 1 : dims[j++]);
  return out;
}

function squeeze(v: Partial, axes: readonly number[]): Partial {
  const rank = v.dims.length;
  const norm = axes.map((a) => (a < 0 ? a + rank : a));
  const dims = v.dims.filter((d, k) => (norm.length ? !norm.includes(k) : d !== 1));
  return { dims, data: v.data };
}

function reshapeTo(v: Partial, dims: readonly number[]): Partial {
  return { dims, data: v.data };
}

function concat(parts: Partial[], axis: number): Partial | null {
  if (parts.some((p) => p.dims.length !== 1) || (axis !== 0 && axis !== -1)) return null;
  const data = parts.flatMap((p) => [...p.data]);
  return { dims: [data.length], data };
}

/** Integer modulo with the divisor's sign (ONNX Mod with fmod = 0, as Python's %). */
const pyMod = (a: number, b: number) => ((a % b) + b) % b;

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** Row-major strides of `dims`. */
function stridesOf(dims: readonly number[]): number[] {
  const st = dims.map(() => 1);
  for (let k = dims.length - 2; k >= 0; k--) st[k] = st[k + 1] * dims[k + 1];
  return st;
}

function reshape(v: Partial, shape: Partial | undefined, allowZero: number): Partial | null {
  if (!shape || shape.data.some((d) => Number.isNaN(d))) return null;
  const dims = shape.data.map((d, k) => (d === 0 && !allowZero ? v.dims[k] : d));
  const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const out = dims.map((d) => (d === -1 ? v.data.length / known : d));
  return size(out) === v.data.length ? { dims: out, data: v.data } : null;
}

function transpose(v: Partial, perm: readonly number[]): Partial {
  const r = v.dims.length;
  const p = perm.length ? perm : Array.from({ length: r }, (_, k) => r - 1 - k);
  const dims = p.map((a) => v.dims[a]);
  const inStrides = stridesOf(v.dims), outStrides = stridesOf(dims);
  const data = Array.from({ length: v.data.length }, (_, flat) => {
    let src = 0;
    for (let k = 0; k < r; k++) {
      src += (Math.floor(flat / outStrides[k]) % dims[k]) * inStrides[p[k]];
    }
    return v.data[src];
  });
  return { dims, data };
}

function constantOfShape(node: NodeProto, shape: Partial): Partial | null {
  if (shape.data.some((d) => Number.isNaN(d)) || size(shape.data) > MAX_ELEMENTS) return null;
  const t = getAttr(node, "value")?.t;
  if (t && t.dataType !== 7 && t.dataType !== 6) return null; // only int64/int32 fills
  const raw = t?.rawData?.length
    ? Number(new DataView(t.rawData.buffer, t.rawData.byteOffset).getBigInt64(0, true))
    : undefined;
  const fill = raw ?? Number(t?.int64Data?.[0] ?? t?.int32Data?.[0] ?? 0);
  return { dims: [...shape.data], data: Array(size(shape.data)).fill(fill) };
}

/** Slice along any axes with any steps (negative ones included), ONNX clamping rules. */
function sliceN(v: Partial, params: (Partial | null)[]): Partial | null {
  const [starts, ends, axesP, stepsP] = params;
  if (!starts || !ends) return null;
  const r = v.dims.length;
  const axes = axesP?.data ?? starts.data.map((_, k) => k);
  const lo = v.dims.map(() => 0), step = v.dims.map(() => 1), count = [...v.dims];
  for (let k = 0; k < axes.length; k++) {
    const a = axes[k] < 0 ? axes[k] + r : axes[k], n = v.dims[a];
    const st = stepsP?.data[k] ?? 1;
    if (!st || [starts.data[k], ends.data[k], st].some((x) => Number.isNaN(x))) return null;
    const norm = (x: number) => (x < 0 ? x + n : x);
    const b0 = st > 0
      ? Math.min(n, Math.max(0, norm(starts.data[k])))
      : Math.min(n - 1, Math.max(-1, norm(starts.data[k])));
    const e0 = st > 0
      ? Math.min(n, Math.max(0, norm(ends.data[k])))
      : Math.min(n - 1, Math.max(-1, norm(ends.data[k])));
    lo[a] = b0;
    step[a] = st;
    count[a] = Math.max(0, Math.ceil((e0 - b0) / st));
  }
  const inStrides = stridesOf(v.dims), outStrides = stridesOf(count);
  const data = Array.from({ length: size(count) }, (_, flat) => {
    let src = 0;
    for (let k = 0; k < r; k++) {
      src += (lo[k] + (Math.floor(flat / outStrides[k]) % count[k]) * step[k]) * inStrides[k];
    }
    return v.data[src];
  });
  return { dims: count, data };
}
