/**
 * Stacked remainder passes: every split's remainder `R_l` run in ONE forward and ONE backward
 * pass, by stacking the per-split streams along the batch axis.
 *
 * Walking the forward graph in order, a tensor downstream of splits l₁ < … < l_m is carried as
 * `[v_{l₁}; …; v_{l_m}]` (m·N rows), where v_l is its value in R_l. At the split tensor z_l the
 * stream of R_l starts: `[stacked z_l; zᵗ_l]`. An input that lacks some of a node's streams
 * takes its ORIGINAL value for them (a residual branch that started before z_l is not
 * recomputed in R_l) — tiled rows of the unperturbed tensor. The FLOPs are those of the
 * separate remainders, but the graph holds each node once and kernels see large batches.
 *
 * A tensor's streams are the splits upstream of it, in split order. In chain-like networks
 * (VGG, CIFAR ResNets, MobileNets) they are always a prefix 0…m−1, and completing an input is one
 * Concat with original rows. Parallel branches that each start streams (torchvision's ResNet
 * bottleneck, whose projection shortcut's BatchNorm follows the main branch's three) give an
 * input streams {…, 3} while its partner has {…, 0, 1, 2}: such an input is cut into its
 * per-stream blocks (Split) and re-joined with original rows in the missing places. Graphs whose
 * non-float or shape tensors depend on stacked values get `{ ok: false, reason }`, and the caller
 * clones one remainder per split instead.
 * @module
 */
import type { GraphBuilder } from "../onnx/builder.ts";
import type { Graph } from "../onnx/graph.ts";
import type { NodeProto } from "../onnx/proto.ts";
import type { ShapeMap, TensorInfo } from "../onnx/shapes.ts";

/** The stacked forward pass of one iteration. */
export interface StackedPass {
  /** Forward nodes of the pass (already appended to the builder), topologically ordered. */
  readonly nodes: NodeProto[];
  /** Stacked logits [L·N, K], streams in split order. */
  readonly logits: string;
  /** Info of every tensor the nodes read or write. */
  info(name: string): TensorInfo | undefined;
  /** The stacked version of an original tensor when it carries every stream, else undefined. */
  allStreams(original: string): string | undefined;
}

/** Why a graph cannot be stacked (the caller falls back to per-split clones). */
export interface NotStackable {
  readonly ok: false;
  readonly reason: string;
}

/** An original tensor's stacked version and the streams (split indices, ascending) it carries. */
interface Streams {
  readonly name: string;
  readonly streams: readonly number[];
}

const no = (reason: string): NotStackable => ({ ok: false, reason });

/** The state of one stacked pass: stream bookkeeping and the nodes emitted so far. */
class StackedEmitter {
  /** Original tensor → its stacked version. */
  readonly stacked = new Map<string, Streams>();
  readonly info = new Map<string, TensorInfo>();
  readonly nodes: NodeProto[] = [];
  readonly #tiled = new Map<string, string>();

  constructor(
    readonly b: GraphBuilder,
    readonly graph: Graph,
    readonly shapes: ShapeMap,
    readonly tag: string,
  ) {}

  emit(node: NodeProto): void {
    this.nodes.push(node);
    this.b.push(node);
  }

  /** Emits a one-output op whose output has the info of `like`; `axis0` adds `axis = 0`. */
  op(opType: string, ins: string[], like: string, hint: string, axis0 = false): string {
    const out = this.b.fresh(hint);
    const attribute = axis0 ? [{ name: "axis", type: 2, i: 0 }] : [];
    this.emit({ opType, input: ins, output: [out], name: `${out}_node`, attribute });
    this.info.set(out, this.shapes.get(like)!);
    return out;
  }

  /** `count` copies of an original tensor along the batch axis. */
  copies(name: string, count: number): string {
    const key = `${name}@${count}`;
    let t = this.#tiled.get(key);
    if (!t) {
      const rank = this.shapes.get(name)!.dims.length;
      const reps = this.b.int64(Array.from({ length: rank }, (_, i) => (i === 0 ? count : 1)));
      t = this.op("Tile", [name, reps], name, `stack${this.tag}/orig`);
      this.#tiled.set(key, t);
    }
    return t;
  }

  batchDependent(name: string): boolean {
    const i = this.shapes.get(name);
    return !!i && i.dims[0] === -1 && i.type === "float32";
  }

  /** The input as seen by a node carrying `streams` (a superset of the input's own), or why not. */
  expand(name: string, streams: readonly number[]): string | NotStackable {
    const st = this.stacked.get(name);
    if (st && st.streams.length === streams.length) return st.name;
    if (!st) {
      if (this.batchDependent(name)) return this.copies(name, streams.length);
      if (this.graph.isConstant(name)) return name;
      // A value computed at run time from unstacked tensors (e.g. a shape with batch N) would
      // not match the stacked batch.
      return no(`"${name}" is computed at run time outside the remainders`);
    }
    // Only float activations can be completed with original rows; anything else (e.g. a shape
    // vector computed from fewer streams) means the graph is not stackable.
    if (!this.batchDependent(name)) {
      return no(`"${name}" is not a float activation with a batch axis`);
    }
    const have = st.streams;
    const tag = this.tag;
    if (have.every((v, i) => streams[i] === v)) {
      const rest = this.copies(name, streams.length - have.length);
      return this.op("Concat", [st.name, rest], name, `stack${tag}/expand`, true);
    }
    const parts = this.interleave(name, st.name, have, streams);
    return this.op("Concat", parts, name, `stack${tag}/merge`, true);
  }

  /** Blocks of `stackedName` (streams `have`) and original rows, in the order of `want`. */
  interleave(
    name: string,
    stackedName: string,
    have: readonly number[],
    want: readonly number[],
  ): string[] {
    const blocks = have.length === 1
      ? [stackedName]
      : this.splitRows(stackedName, name, have.length);
    const parts: string[] = [];
    let missing = 0;
    for (const s of want) {
      const k = have.indexOf(s);
      if (k < 0) {
        missing++;
        continue;
      }
      if (missing) parts.push(this.copies(name, missing));
      missing = 0;
      parts.push(blocks[k]);
    }
    if (missing) parts.push(this.copies(name, missing));
    return parts;
  }

  /** Splits a stacked tensor into `count` equal row blocks (one per stream). */
  splitRows(stackedName: string, like: string, count: number): string[] {
    const outs = Array.from({ length: count }, () => this.b.fresh(`stack${this.tag}/block`));
    const attribute = [{ name: "axis", type: 2, i: 0 }];
    // Opset 18 made the number of equal parts an attribute; before, the output count says it.
    if (this.b.opset >= 18) attribute.push({ name: "num_outputs", type: 2, i: count });
    this.emit({
      opType: "Split",
      input: [stackedName],
      output: outs,
      name: `${outs[0]}_node`,
      attribute,
    });
    for (const o of outs) this.info.set(o, this.shapes.get(like)!);
    return outs;
  }

  /** Emits a forward node over the union of its inputs' streams (if any), or says why not. */
  forward(node: NodeProto): NotStackable | undefined {
    const ins = node.input ?? [];
    const streams = unionOf(ins.map((i) => this.stacked.get(i)?.streams ?? []));
    const outs = node.output ?? [];
    if (streams.length === 0 || foldedAway(this.graph, outs)) return undefined;
    const moved = outs.find((o) => o && laterBatchAxis(this.shapes.get(o)?.dims));
    if (moved) {
      // Streams are stacked along axis 0; a tensor whose batch sits on a later axis (ViT's
      // [T, N, C] attention, Swin's [3, N·windows, …] qkv) would mix them.
      return no(`"${moved}" carries the batch on a later axis than 0`);
    }
    if (node.opType === "Reshape" && !batchPreservingReshape(this.graph, ins[1], this.stacked)) {
      return no(`Reshape "${node.name || outs[0]}" does not keep the batch axis`);
    }
    const inputsOfNode: string[] = [];
    for (const i of ins) {
      const e = i ? this.expand(i, streams) : i;
      if (typeof e !== "string") return e;
      inputsOfNode.push(e);
    }
    const renamed = outs.map((o) => (o ? this.b.fresh(`${o}#${this.tag}`) : o));
    this.emit({
      ...node,
      name: `${node.name || outs[0]}#${this.tag}`,
      input: inputsOfNode,
      output: renamed,
    });
    outs.forEach((o, k) => {
      if (!o) return;
      this.stacked.set(o, { name: renamed[k], streams });
      this.info.set(renamed[k], this.shapes.get(o)!);
    });
    return undefined;
  }

  /** Starts the stream of R_l at split tensor `o`: `[stacked o; input]`, or says why not. */
  startStream(o: string, l: number, input: string): NotStackable | undefined {
    // The stream of R_l starts here, after those of the splits upstream (all before l).
    const before = this.stacked.get(o);
    if (before && before.streams.some((v) => v >= l)) {
      return no(`split "${o}" is downstream of a later split (splits out of graph order)`);
    }
    this.info.set(input, this.shapes.get(o)!);
    const name = before
      ? this.op("Concat", [before.name, input], o, `stack${this.tag}/split`, true)
      : input;
    this.stacked.set(o, { name, streams: [...(before?.streams ?? []), l] });
    return undefined;
  }

  /** The finished pass, once every node is emitted, or why the logits are not fully stacked. */
  result(splitCount: number): (StackedPass & { readonly ok: true }) | NotStackable {
    const logits = this.stacked.get(this.graph.outputNames[0]);
    if (!logits || logits.streams.length !== splitCount) {
      return no("the logits do not depend on every split");
    }
    const { info, shapes, stacked } = this;
    return {
      ok: true,
      nodes: this.nodes,
      logits: logits.name,
      info: (n) => info.get(n) ?? shapes.get(n),
      allStreams: (n) => {
        const st = stacked.get(n);
        return st?.streams.length === splitCount ? st.name : undefined;
      },
    };
  }
}

/**
 * Emits the stacked forward pass in which split `splits[l]` takes the value `inputs[l]`.
 * Returns `{ ok: false, reason }` when the graph's topology does not allow stacking (nodes
 * emitted before that point stay in the builder unused).
 */
export function emitStackedPass(
  b: GraphBuilder,
  graph: Graph,
  shapes: ShapeMap,
  splits: readonly string[],
  inputs: readonly string[],
  tag: string,
): (StackedPass & { readonly ok: true }) | NotStackable {
  const splitIndex = new Map(splits.map((s, i) => [s, i]));
  const e = new StackedEmitter(b, graph, shapes, tag);
  for (const node of graph.nodes) {
    const failed = e.forward(node);
    if (failed) return failed;
    for (const o of node.output ?? []) {
      const l = splitIndex.get(o);
      if (l === undefined) continue;
      const notStarted = e.startStream(o, l, inputs[l]);
      if (notStarted) return notStarted;
    }
  }
  return e.result(splits.length);
}

/**
 * Whether every output of a node has a compile-time value (shape arithmetic folded from the
 * probed shapes): such a node reads stacked tensors only for their fixed dimensions, so its
 * outputs are the same in every stream and it is not stacked.
 */
export function foldedAway(graph: Graph, outputs: readonly string[]): boolean {
  return outputs.length > 0 && outputs.every((o) => !o || graph.constantValue(o) !== undefined);
}

/** Whether dims have a batch-dependent axis but not axis 0. */
function laterBatchAxis(dims: readonly number[] | undefined): boolean {
  return !!dims && dims.length > 0 && dims[0] !== -1 && dims.includes(-1);
}

/** The ascending union of ascending index lists. */
function unionOf(lists: readonly (readonly number[])[]): readonly number[] {
  const longest = lists.reduce((a, l) => (l.length > a.length ? l : a), [] as readonly number[]);
  if (lists.every((l) => l.length === 0 || l.every((v, i) => longest[i] === v))) return longest;
  return [...new Set(lists.flat())].sort((a, b) => a - b);
}

/**
 * A Reshape keeps rows independent if its target shape keeps (0) or infers (−1) the batch, or
 * is computed at run time from stacked tensors (e.g. `x.view(x.size(0), -1)`).
 */
function batchPreservingReshape(
  graph: Graph,
  shapeInput: string | undefined,
  stacked: ReadonlyMap<string, unknown>,
): boolean {
  if (!shapeInput) return false;
  const value = graph.constantValue(shapeInput);
  if (!value) return stacked.has(shapeInput);
  return value[0] === -1 || value[0] === 0;
}
