/**
 * Turns a base model plus builder additions into a new model.
 * @module
 */
import type { GraphBuilder } from "./builder.ts";
import { type ModelProto, type NodeProto, onnx, type ValueInfoProto } from "./proto.ts";

/** Options for {@link assembleModel}. */
export interface AssembleOptions {
  /** Keep the base graph's nodes (default true). */
  readonly keepNodes?: boolean;
  /** Base graph inputs to keep (default: all). */
  readonly inputs?: readonly ValueInfoProto[];
  /** Outputs of the new model (replaces the base outputs). */
  readonly outputs: readonly ValueInfoProto[];
  /** Nodes placed before the builder's nodes (e.g. cloned forward nodes). */
  readonly extraNodes?: readonly NodeProto[];
}

/** A new model: base initializers + builder initializers, base nodes + builder nodes. */
export function assembleModel(
  base: ModelProto,
  b: GraphBuilder,
  opts: AssembleOptions,
): ModelProto {
  const g = base.graph!;
  const nodes = [
    ...(opts.keepNodes === false ? [] : g.node ?? []),
    ...(opts.extraNodes ?? []),
    ...b.nodes,
  ];
  // Only initializers something reads: onnxruntime warns about (and a file would carry) the rest.
  const used = new Set(nodes.flatMap((n) => n.input ?? []));
  const graph = onnx.GraphProto.create({
    name: `${g.name ?? "graph"}_si`,
    node: nodes,
    initializer: [...(g.initializer ?? []), ...b.initializers].filter((t) => used.has(t.name!)),
    input: [...(opts.inputs ?? g.input ?? []), ...b.inputs],
    output: [...opts.outputs],
  });
  return onnx.ModelProto.create({
    irVersion: base.irVersion,
    opsetImport: base.opsetImport,
    producerName: "si-ood compiler",
    graph,
  });
}
