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
import type { TensorInfo } from "../onnx/shapes.ts";
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

/** Forward tensor → batch tiled `seedCount` times (memoized), so forward values match cotangents. */
function tiler(
  b: GraphBuilder,
  info: BackwardSpec["info"],
  seedCount: number,
): (name: string) => string {
  const tiled = new Map<string, string>();
  return (name) => {
    if (seedCount === 1 || !name) return name;
    const i = info(name);
    // The batch axis is the first batch-dependent one: ViT's attention runs on [T, N, C] and
    // Swin's qkv is [3, N·windows, …]; their cotangents are seed-major along that axis too.
    const axis = i ? i.dims.indexOf(-1) : -1;
    if (axis < 0) return name;
    let t = tiled.get(name);
    if (!t) {
      const reps = i!.dims.map((_, k) => (k === axis ? seedCount : 1));
      t = b.op("Tile", [name, b.int64(reps)], {}, "tile");
      tiled.set(name, t);
    }
    return t;
  };
}

/**
 * Fan-out gradient accumulation: contributions are collected per tensor and summed the first
 * time the gradient is read, after which no more may arrive (reverse topological order).
 */
class GradientSums {
  readonly #pending = new Map<string, string[]>();
  readonly #final = new Map<string, string | null>();
  constructor(private readonly b: GraphBuilder, seeds: ReadonlyMap<string, string>) {
    for (const [t, g] of seeds) this.#pending.set(t, [g]);
  }

  /** The complete gradient of a tensor (null when nothing flowed into it). */
  get(name: string): string | null {
    if (this.#final.has(name)) return this.#final.get(name)!;
    const parts = this.#pending.get(name) ?? [];
    let sum: string | null = parts[0] ?? null;
    for (const p of parts.slice(1)) sum = this.b.op("Add", [sum!, p], {}, "grad_sum");
    this.#final.set(name, sum);
    return sum;
  }

  /** Adds one contribution to a tensor's gradient. */
  add(name: string, g: string): void {
    if (this.#final.has(name)) {
      throw new Error(`Internal error: gradient of "${name}" was used before it was complete`);
    }
    const list = this.#pending.get(name) ?? [];
    list.push(g);
    this.#pending.set(name, list);
  }
}

/** Shared state of one backward pass, as the per-node emission needs it. */
interface Pass {
  readonly b: GraphBuilder;
  readonly spec: BackwardSpec;
  readonly seedCount: number;
  readonly activity: Activity;
  readonly tile: (name: string) => string;
  readonly grads: GradientSums;
}

/** Emits one node's gradient rule and records the input gradients it produces. */
function emitNode(pass: Pass, node: NodeProto): void {
  const { b, spec, grads, tile } = pass;
  const { varied, useful } = pass.activity;
  const outs = node.output ?? [];
  const ins = node.input ?? [];
  const gos = outs.map((o) => (o ? grads.get(o) : null));
  if (gos.every((g) => g === null)) return;
  const rule = RULES[node.opType!];
  if (!rule) {
    throw new Error(
      `No gradient rule for op "${node.opType}" (${nodeLabel(node)}); supported ops: ${
        supportedOps().join(", ")
      }`,
    );
  }
  if (rule === NO_GRADIENT) return;
  const infoOf = (name: string): TensorInfo => {
    const i = spec.info(name);
    if (!i) throw new Error(`No shape information for tensor "${name}"`);
    return i;
  };
  const ctx: GradContext = {
    node,
    b,
    seedCount: pass.seedCount,
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
    if (g && ctx.needs(i)) grads.add(name, g);
  });
}

/** Emits the backward pass; returns wrt tensor → gradient tensor (same shape, × seedCount batch). */
export function buildBackward(b: GraphBuilder, spec: BackwardSpec): Map<string, string> {
  const seedCount = spec.seedCount ?? 1;
  const tile = tiler(b, spec.info, seedCount);
  const pass: Pass = {
    b,
    spec,
    seedCount,
    tile,
    activity: activity(spec),
    grads: new GradientSums(b, spec.seeds),
  };
  for (const node of pass.activity.active) emitNode(pass, node);

  const result = new Map<string, string>();
  for (const w of spec.wrt) {
    let g = pass.grads.get(w);
    if (!g) {
      // No path to any seed: the gradient is exactly zero.
      g = b.op("ConstantOfShape", [b.op("Shape", [tile(w)])], {}, "zero_grad");
    }
    result.set(w, g);
  }
  return result;
}
