/**
 * An indexed, read-only view of an ONNX graph: producers, consumers, initializers, constant
 * values and topological order.
 * @module
 */
import type { GraphProto, ModelProto, NodeProto, TensorProto } from "./proto.ts";
import { type TensorValues, tensorValues } from "./tensor.ts";
import { getAttr } from "./tensor.ts";
import { ShapeFolder } from "./fold_shapes.ts";
import type { ShapeMap } from "./shapes.ts";

/** Stable, human-readable label of a node for error messages. */
export function nodeLabel(node: NodeProto): string {
  return `${node.opType} node "${node.name || node.output?.[0] || "?"}"`;
}

/** Indexed view of a model's main graph. */
export class Graph {
  readonly model: ModelProto;
  readonly proto: GraphProto;
  readonly nodes: readonly NodeProto[];
  readonly initializers: ReadonlyMap<string, TensorProto>;
  readonly producer: ReadonlyMap<string, NodeProto>;
  readonly consumers: ReadonlyMap<string, readonly NodeProto[]>;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];

  readonly #folder: ShapeFolder | undefined;

  /**
   * With `shapes` (the probed static shapes), {@link constantValue} also folds shape arithmetic
   * that is constant once the input size is fixed and follows Identity chains (fold_shapes.ts).
   */
  constructor(model: ModelProto, shapes?: ShapeMap) {
    this.model = model;
    this.proto = model.graph!;
    const inits = new Map<string, TensorProto>();
    for (const t of this.proto.initializer ?? []) inits.set(t.name!, t);
    this.initializers = inits;
    const producer = new Map<string, NodeProto>();
    const consumers = new Map<string, NodeProto[]>();
    for (const n of this.proto.node ?? []) {
      for (const o of n.output ?? []) if (o) producer.set(o, n);
      for (const i of n.input ?? []) {
        if (!i) continue;
        const list = consumers.get(i) ?? [];
        if (!list.includes(n)) list.push(n);
        consumers.set(i, list);
      }
    }
    this.producer = producer;
    this.consumers = consumers;
    this.inputNames = (this.proto.input ?? []).map((v) => v.name!).filter((n) => !inits.has(n));
    this.outputNames = (this.proto.output ?? []).map((v) => v.name!);
    this.nodes = topoSort(this.proto.node ?? [], producer);
    this.#folder = shapes ? new ShapeFolder(this, shapes) : undefined;
  }

  /** Whether a tensor's value is fixed at compile time (initializer or constant-only subgraph). */
  isConstant(name: string): boolean {
    return this.#constness(name);
  }

  #constCache = new Map<string, boolean>();
  #constness(name: string): boolean {
    if (!name) return true;
    const cached = this.#constCache.get(name);
    if (cached !== undefined) return cached;
    let result: boolean;
    if (this.initializers.has(name)) result = true;
    else {
      const p = this.producer.get(name);
      result = p ? (p.input ?? []).every((i) => this.#constness(i)) : false;
    }
    this.#constCache.set(name, result);
    return result;
  }

  /**
   * The compile-time value of a tensor: an initializer or a Constant node's output; with shapes
   * given to the constructor also through Identity chains and folded shape arithmetic.
   */
  constantValue(name: string): TensorValues | undefined {
    return this.literalValue(name) ?? this.#folder?.value(name);
  }

  /** The value of an initializer or a Constant node's output, if it has one. */
  literalValue(name: string): TensorValues | undefined {
    const init = this.initializers.get(name);
    if (init) return tensorValues(init);
    const p = this.producer.get(name);
    if (p?.opType === "Constant") {
      const t = getAttr(p, "value")?.t;
      if (t) return tensorValues(t);
      const ints = getAttr(p, "value_ints")?.ints;
      if (ints) return ints.map(Number);
      const i = getAttr(p, "value_int")?.i;
      if (i !== undefined && i !== null) return [Number(i)];
      const fs = getAttr(p, "value_floats")?.floats;
      if (fs) return Float32Array.from(fs);
    }
    return undefined;
  }

  /** The dims of an initializer, if `name` is one. */
  initializerDims(name: string): number[] | undefined {
    const t = this.initializers.get(name);
    return t ? (t.dims ?? []).map(Number) : undefined;
  }

  /** All tensors computed (transitively) from `roots`, roots included. */
  downstreamOf(roots: Iterable<string>): Set<string> {
    const seen = new Set<string>(roots);
    for (const n of this.nodes) {
      if ((n.input ?? []).some((i) => i && seen.has(i))) {
        for (const o of n.output ?? []) if (o) seen.add(o);
      }
    }
    return seen;
  }

  /** Nodes (in topological order) that compute something from `roots`. */
  nodesDownstreamOf(roots: Iterable<string>): NodeProto[] {
    const seen = new Set<string>(roots);
    const out: NodeProto[] = [];
    for (const n of this.nodes) {
      if ((n.input ?? []).some((i) => i && seen.has(i))) {
        out.push(n);
        for (const o of n.output ?? []) if (o) seen.add(o);
      }
    }
    return out;
  }
}

function topoSort(nodes: NodeProto[], producer: Map<string, NodeProto>): NodeProto[] {
  const order: NodeProto[] = [];
  const state = new Map<NodeProto, 1 | 2>();
  const visit = (root: NodeProto) => {
    // Iterative DFS: real graphs are deep enough to overflow recursion.
    const stack: [NodeProto, number][] = [[root, 0]];
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [n, i] = top;
      if (i === 0) {
        if (state.get(n) === 2) {
          stack.pop();
          continue;
        }
        state.set(n, 1);
      }
      const inputs = n.input ?? [];
      if (i < inputs.length) {
        top[1]++;
        const p = inputs[i] ? producer.get(inputs[i]) : undefined;
        if (p && state.get(p) === 1 && p !== n) {
          throw new Error(`Graph has a cycle through ${nodeLabel(p)}`);
        }
        if (p && !state.has(p)) stack.push([p, 0]);
        continue;
      }
      state.set(n, 2);
      order.push(n);
      stack.pop();
    }
  };
  for (const n of nodes) if (!state.has(n)) visit(n);
  return order;
}
