/**
 * Remainder graphs: the part of a network downstream of a split tensor `z_l`, re-rooted at a
 * replacement tensor, with every tensor NOT downstream of `z_l` keeping its original value
 * (a residual branch that started before `z_l` is read from the original forward pass, not
 * recomputed). See docs/method.md, "Terms".
 * @module
 */
import type { Graph } from "../onnx/graph.ts";
import type { NodeProto } from "../onnx/proto.ts";

/** A cloned remainder subgraph. */
export interface Remainder {
  /** Cloned nodes, topologically ordered, reading `input` instead of the split. */
  readonly nodes: NodeProto[];
  /** The replacement tensor's name. */
  readonly input: string;
  /** Nodes computing constant tensors the clone reads (needed when it runs on its own). */
  readonly constantNodes: NodeProto[];
  /** Forward tensors (not constants) the remainder reads from the original pass. */
  readonly sideInputs: string[];
  /** Name of a cloned tensor for an original tensor name (identity for side inputs/constants). */
  rename(original: string): string;
  /** Original name of a (possibly cloned) tensor. */
  original(name: string): string;
}

/** Clones everything downstream of `split`; cloned tensors get `suffix` appended. */
export function cloneRemainder(
  graph: Graph,
  split: string,
  input: string,
  suffix: string,
): Remainder {
  if (!graph.producer.has(split) && !graph.inputNames.includes(split)) {
    throw new Error(`Cannot split at "${split}": no such tensor in the graph`);
  }
  // Shape arithmetic with a compile-time value is the same in the remainder: not cloned.
  const forward = graph.nodesDownstreamOf([split]).filter((n) =>
    !(n.output ?? []).every((o) => !o || graph.constantValue(o) !== undefined)
  );
  const cloned = new Map<string, string>([[split, input]]);
  for (const n of forward) for (const o of n.output ?? []) if (o) cloned.set(o, `${o}${suffix}`);
  const back = new Map<string, string>();
  for (const [k, v] of cloned) back.set(v, k);
  const rename = (name: string) => cloned.get(name) ?? name;
  const side = new Set<string>();
  const constants: string[] = [];
  const nodes = forward.map((n) => {
    for (const i of n.input ?? []) {
      if (!i || cloned.has(i)) continue;
      if (graph.isConstant(i)) constants.push(i);
      else side.add(i);
    }
    return {
      ...n,
      name: `${n.name || n.output?.[0]}${suffix}`,
      input: (n.input ?? []).map((i) => (i ? rename(i) : i)),
      output: (n.output ?? []).map((o) => (o ? rename(o) : o)),
    };
  });
  return {
    nodes,
    constantNodes: constantProducers(graph, constants),
    input,
    sideInputs: [...side],
    rename,
    original: (name) => back.get(name) ?? name,
  };
}

function constantProducers(graph: Graph, names: string[]): NodeProto[] {
  const included = new Set<NodeProto>();
  const stack = [...names];
  while (stack.length) {
    const p = graph.producer.get(stack.pop()!);
    if (!p || included.has(p)) continue;
    included.add(p);
    for (const i of p.input ?? []) if (i) stack.push(i);
  }
  return graph.nodes.filter((n) => included.has(n));
}
