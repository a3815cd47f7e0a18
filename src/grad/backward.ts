/**
 * Reverse-mode differentiation of an ONNX (sub)graph into plain ONNX nodes.
 *
 * Given forward nodes, cotangent seeds at some of their outputs and the tensors to differentiate
 * with respect to, emits the backward nodes into a builder. Only nodes on a path from `wrt` to a
 * seed are differentiated; fan-out gradients are summed.
 * @module
 */
import type { GraphBuilder } from "../onnx/builder.ts";
import { nodeLabel } from "../onnx/graph.ts";
import type { NodeProto } from "../onnx/proto.ts";
import type { TensorInfo } from "../runtime/shapes.ts";
import type { TensorValues } from "../onnx/tensor.ts";
import { RULES, supportedOps } from "./registry.ts";
import { type GradContext, NO_GRADIENT } from "./types.ts";

/** What to differentiate. */
export interface BackwardSpec {
  /** Forward nodes, topologically ordered. */
  readonly nodes: readonly NodeProto[];
  /** Static info of every tensor the nodes read or write. */
  readonly info: (name: string) => TensorInfo | undefined;
  /** Compile-time values of initializers and Constant outputs. */
  readonly constant: (name: string) => TensorValues | undefined;
  /** Forward tensor → the builder tensor holding its cotangent. */
  readonly seeds: ReadonlyMap<string, string>;
  /** Tensors whose gradients are wanted. */
  readonly wrt: readonly string[];
  /**
   * Several cotangents per image in one pass: the cotangent batch is `seedCount × batch`
   * (seed-major), and batch-dependent forward values are tiled to match.
   */
  readonly seedCount?: number;
}

const FLOAT_TYPES = new Set(["float32"]);

/** Which tensors and nodes a backward pass needs: the activity analysis, apart from emission. */
export interface Activity {
  /** Tensors that depend on `wrt` through differentiable ops (forward activity). */
  readonly varied: ReadonlySet<string>;
  /** Varied tensors a seed depends on (backward activity). */
  readonly useful: ReadonlySet<string>;
  /** Nodes to differentiate, in reverse topological order. */
  readonly active: readonly NodeProto[];
}

/** Throws when a node reads a non-float tensor that was computed from the differentiated ones. */
function checkNotCut(n: NodeProto, cut: ReadonlyMap<string, string>): void {
  const i = (n.input ?? []).find((name) => cut.has(name));
  if (i === undefined) return;
  throw new Error(
    `Cannot differentiate ${nodeLabel(n)}: its input "${i}" is ${cut.get(i)}, computed from ` +
      `the differentiated tensors; gradients only flow through float32 tensors`,
  );
}

/** The activity analysis of {@link buildBackward}: nodes on a path from `wrt` to a seed. */
export function activity(
  spec: Pick<BackwardSpec, "nodes" | "info" | "seeds" | "wrt">,
): Activity {
  const varied = new Set<string>(spec.wrt);
  // Non-float tensors computed from wrt by differentiable ops (e.g. a Cast to int64): a float
  // tensor computed from one would silently get a zero gradient, so that is an error.
  const cut = new Map<string, string>();
  const activeFwd: NodeProto[] = [];
  for (const n of spec.nodes) {
    if (RULES[n.opType!] === NO_GRADIENT) continue;
    if (!(n.input ?? []).some((i) => i && (varied.has(i) || cut.has(i)))) continue;
    let any = false;
    for (const o of n.output ?? []) {
      const type = spec.info(o)?.type ?? "float32";
      if (o && FLOAT_TYPES.has(type)) {
        checkNotCut(n, cut);
        varied.add(o);
        any = true;
      } else if (o) cut.set(o, type);
    }
    if (any) activeFwd.push(n);
  }
  const useful = new Set<string>(spec.seeds.keys());
  const active: NodeProto[] = [];
  for (let k = activeFwd.length - 1; k >= 0; k--) {
    const n = activeFwd[k];
    if (!(n.output ?? []).some((o) => o && useful.has(o))) continue;
    active.push(n);
    for (const i of n.input ?? []) if (i && varied.has(i)) useful.add(i);
  }
  return { varied, useful, active };
}

/** Emits the backward pass; returns wrt tensor → gradient tensor (same shape, × seedCount batch). */
export function buildBackward(b: GraphBuilder, spec: BackwardSpec): Map<string, string> {
  const seedCount = spec.seedCount ?? 1;
  const infoOf = (name: string): TensorInfo => {
    const i = spec.info(name);
    if (!i) throw new Error(`No shape information for tensor "${name}"`);
    return i;
  };
  const tiled = new Map<string, string>();
  const tile = (name: string): string => {
    if (seedCount === 1 || !name) return name;
    const info = spec.info(name);
    if (!info || info.dims[0] !== -1) return name;
    let t = tiled.get(name);
    if (!t) {
      const reps = info.dims.map((_, i) => (i === 0 ? seedCount : 1));
      t = b.op("Tile", [name, b.int64(reps)], {}, "tile");
      tiled.set(name, t);
    }
    return t;
  };

  const { varied, useful, active } = activity(spec);

  const pending = new Map<string, string[]>();
  const final = new Map<string, string | null>();
  for (const [t, g] of spec.seeds) pending.set(t, [g]);
  const gradOf = (name: string): string | null => {
    if (final.has(name)) return final.get(name)!;
    const parts = pending.get(name) ?? [];
    let sum: string | null = parts[0] ?? null;
    for (const p of parts.slice(1)) sum = b.op("Add", [sum!, p], {}, "grad_sum");
    final.set(name, sum);
    return sum;
  };

  for (const node of active) {
    const outs = node.output ?? [];
    const ins = node.input ?? [];
    const gos = outs.map((o) => (o ? gradOf(o) : null));
    if (gos.every((g) => g === null)) continue;
    const rule = RULES[node.opType!];
    if (!rule) {
      throw new Error(
        `No gradient rule for op "${node.opType}" (${nodeLabel(node)}); supported ops: ${
          supportedOps().join(", ")
        }`,
      );
    }
    if (rule === NO_GRADIENT) continue;
    const ctx: GradContext = {
      node,
      b,
      seedCount,
      inputCount: ins.length,
      I: (i) => tile(ins[i]),
      O: (i) => tile(outs[i]),
      GO: (i) => gos[i] ?? null,
      needs: (i) => !!ins[i] && varied.has(ins[i]) && useful.has(ins[i]),
      inInfo: (i) => infoOf(ins[i]),
      outInfo: (i) => infoOf(outs[i]),
      constant: (i) => (ins[i] ? spec.constant(ins[i]) : undefined),
      fail: (reason) => {
        throw new Error(`Cannot differentiate ${nodeLabel(node)}: ${reason}`);
      },
    };
    const gis = rule(ctx);
    ins.forEach((name, i) => {
      const g = gis[i];
      if (!g || !ctx.needs(i)) return;
      if (final.has(name)) {
        throw new Error(`Internal error: gradient of "${name}" was used before it was complete`);
      }
      const list = pending.get(name) ?? [];
      list.push(g);
      pending.set(name, list);
    });
  }

  const result = new Map<string, string>();
  for (const w of spec.wrt) {
    let g = gradOf(w);
    if (!g) {
      // No path to any seed: the gradient is exactly zero.
      g = b.op("ConstantOfShape", [b.op("Shape", [tile(w)])], {}, "zero_grad");
    }
    result.set(w, g);
  }
  return result;
}
