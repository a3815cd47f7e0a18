/**
 * A small graph builder: fresh names, nodes, cached constants and opset-aware helpers for the ops
 * whose signature changed across opsets (Reduce*, Squeeze/Unsqueeze).
 * @module
 */
import { type NodeProto, onnx, type TensorProto, type ValueInfoProto } from "./proto.ts";
import { type AttrValue, floatTensor, int64Tensor, makeAttrs } from "./tensor.ts";

/** Appends nodes and initializers to a graph under construction. */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  /** Default-domain opset the emitted nodes must conform to. */
  readonly opset: number;
  readonly #taken: Set<string>;
  readonly #prefix: string;
  readonly #constCache = new Map<string, string>();
  readonly #memo = new Map<string, string>();
  #counter = 0;

  constructor(opset: number, taken: Iterable<string> = [], prefix = "g") {
    this.opset = opset;
    this.#taken = new Set(taken);
    this.#prefix = prefix;
  }

  /** A tensor name not used anywhere in the graph, derived from `hint`. */
  fresh(hint: string): string {
    const base = `${this.#prefix}/${hint}`;
    let name = base;
    while (this.#taken.has(name)) name = `${base}_${++this.#counter}`;
    this.#taken.add(name);
    return name;
  }

  /** Marks names as used (e.g. names of an appended subgraph). */
  reserve(names: Iterable<string>): void {
    for (const n of names) this.#taken.add(n);
  }

  /** Emits a node with `outputs` outputs and returns their names. */
  nodeN(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, AttrValue> = {},
    outputs = 1,
    hint = opType,
  ): string[] {
    const names = Array.from({ length: outputs }, () => this.fresh(hint));
    this.nodes.push({
      opType,
      input: [...inputs],
      output: names,
      name: this.fresh(`${hint}_node`),
      attribute: makeAttrs(attrs),
    });
    return names;
  }

  /** Emits a single-output node and returns its output name. */
  op(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, AttrValue> = {},
    hint?: string,
  ) {
    return this.nodeN(opType, inputs, attrs, 1, hint ?? opType)[0];
  }

  /** Appends an existing node (e.g. a cloned forward node) unchanged. */
  push(node: NodeProto): void {
    this.nodes.push(node);
    this.reserve(node.output ?? []);
  }

  /** A cached int64 constant initializer. */
  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.#cached(`i64:${dims}:${values}`, (n) => int64Tensor(n, dims, values));
  }

  /** A cached float32 constant initializer (scalar when `dims` is []). */
  float(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.#cached(`f32:${dims}:${values}`, (n) => floatTensor(n, dims, values));
  }

  /** A float32 scalar constant. */
  scalar(v: number): string {
    return this.float([v], []);
  }

  /**
   * Returns the tensor cached under `key`, creating it once with `make`. Rules use it for values
   * derived from constants (e.g. a flipped conv kernel), so that differentiating the same node
   * many times — once per remainder graph — stores the derived weights once.
   */
  memo(key: string, make: () => string): string {
    let name = this.#memo.get(key);
    if (!name) {
      name = make();
      this.#memo.set(key, name);
    }
    return name;
  }

  /** Adds a float initializer with arbitrary data (not cached). */
  floatInit(hint: string, dims: readonly number[], data: ArrayLike<number>): string {
    const name = this.fresh(hint);
    this.initializers.push(floatTensor(name, dims, data));
    return name;
  }

  #cached(key: string, make: (name: string) => TensorProto): string {
    let name = this.#constCache.get(key);
    if (!name) {
      name = this.fresh("const");
      this.initializers.push(make(name));
      this.#constCache.set(key, name);
    }
    return name;
  }

  /** Reduce* with static axes, in the form this opset expects (axes input from 18; ReduceSum from 13). */
  reduce(op: string, x: string, axes: readonly number[], keepdims: boolean): string {
    const axesAsInput = op === "ReduceSum" ? this.opset >= 13 : this.opset >= 18;
    if (axesAsInput) return this.op(op, [x, this.int64(axes)], { keepdims: keepdims ? 1 : 0 });
    return this.op(op, [x], { axes: [...axes], keepdims: keepdims ? 1 : 0 });
  }

  /** Unsqueeze with static axes (input from opset 13). */
  unsqueeze(x: string, axes: readonly number[]): string {
    if (this.opset >= 13) return this.op("Unsqueeze", [x, this.int64(axes)]);
    return this.op("Unsqueeze", [x], { axes: [...axes] });
  }

  /** Squeeze with static axes (input from opset 13). */
  squeeze(x: string, axes: readonly number[]): string {
    if (this.opset >= 13) return this.op("Squeeze", [x, this.int64(axes)]);
    return this.op("Squeeze", [x], { axes: [...axes] });
  }

  /** Declares a float graph input; `dims` entries that are strings are symbolic. */
  addInput(name: string, dims: readonly (number | string)[], elemType = 1): void {
    this.#taken.add(name);
    this.inputs.push(valueInfo(name, dims, elemType));
  }

  /** Declares a graph output. */
  addOutput(name: string, dims: readonly (number | string)[], elemType = 1): void {
    this.outputs.push(valueInfo(name, dims, elemType));
  }
}

/** A typed ValueInfoProto; string dims become symbolic dimensions. */
export function valueInfo(
  name: string,
  dims: readonly (number | string)[],
  elemType = 1,
): ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: dims.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })),
        },
      },
    },
  });
}
