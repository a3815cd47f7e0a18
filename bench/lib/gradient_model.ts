/**
 * Standalone gradient models: a model (or a remainder of it) extended with a cotangent input and
 * gradient outputs, each run as its own onnxruntime session. Diagnostics, not the product: the
 * finite-difference checks of the gradient rules (tests/grad/) and the slow reference loop of the
 * S&I engine (reference_loop.ts) use them; the engine compiles whole scoring graphs instead.
 * @module
 */
import { assembleModel } from "../../src/onnx/assemble.ts";
import { GraphBuilder, valueInfo } from "../../src/onnx/builder.ts";
import { Graph } from "../../src/onnx/graph.ts";
import { type ModelProto, opsetOf } from "../../src/onnx/proto.ts";
import type { ShapeMap } from "../../src/onnx/shapes.ts";
import { buildBackward } from "../../src/grad/backward.ts";
import { cloneRemainder } from "../../src/grad/remainder.ts";

/** A compiled gradient model and the names of its extra inputs/outputs. */
export interface GradientModel {
  readonly model: ModelProto;
  /** Cotangent input, shaped like the model output. */
  readonly seed: string;
  /** Graph inputs in feed order (the split replacement first for remainders, then side inputs). */
  readonly inputs: readonly string[];
  /** Model output (logits). */
  readonly output: string;
  /** wrt tensor → gradient output name. */
  readonly grads: ReadonlyMap<string, string>;
}

function allNames(graph: Graph): string[] {
  const names = [...graph.initializers.keys(), ...graph.inputNames];
  for (const n of graph.nodes) names.push(...(n.output ?? []));
  return names;
}

const ELEM_TYPE: Record<string, number> = { float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9 };
const elemTypeOf = (shapes: ShapeMap, name: string) =>
  ELEM_TYPE[shapes.get(name)?.type ?? "float32"];

const dimsOf = (shapes: ShapeMap, name: string) =>
  (shapes.get(name)?.dims ?? []).map((d) => (d < 0 ? "batch" : d));

/** The whole model plus gradients of `output` (seeded by a cotangent input) at `wrt`. */
export function gradientModel(
  model: ModelProto,
  shapes: ShapeMap,
  wrt: readonly string[],
): GradientModel {
  const graph = new Graph(model, shapes);
  const output = graph.outputNames[0];
  const b = new GraphBuilder(opsetOf(model), allNames(graph), "grad");
  const seed = "seed";
  b.addInput(seed, dimsOf(shapes, output));
  const grads = buildBackward(b, {
    nodes: graph.nodes,
    info: (n) => shapes.get(n),
    constant: (n) => graph.constantValue(n),
    seeds: new Map([[output, seed]]),
    wrt,
  });
  const outs = new Map<string, string>();
  const outputs = [valueInfo(output, dimsOf(shapes, output))];
  for (const [w, g] of grads) {
    const name = `grad:${w}`;
    b.nodes.push({ opType: "Identity", input: [g], output: [name], name: `${name}_node` });
    outputs.push(valueInfo(name, dimsOf(shapes, w)));
    outs.set(w, name);
  }
  return {
    model: assembleModel(model, b, { outputs }),
    seed,
    inputs: [...graph.inputNames],
    output,
    grads: outs,
  };
}

/** The remainder `R_split(z)` as a model: inputs z, side inputs, seed; outputs logits and ∂/∂z. */
export function remainderGradientModel(
  model: ModelProto,
  shapes: ShapeMap,
  split: string,
): GradientModel {
  const graph = new Graph(model, shapes);
  const output = graph.outputNames[0];
  const z = "z";
  const rem = cloneRemainder(graph, split, z, "#r");
  const b = new GraphBuilder(opsetOf(model), [...allNames(graph), z], "grad");
  b.reserve(rem.nodes.flatMap((n) => n.output ?? []));
  b.addInput(z, dimsOf(shapes, split));
  // Side inputs keep their element type (e.g. an int64 Shape output read by a Reshape).
  for (const s of rem.sideInputs) b.addInput(s, dimsOf(shapes, s), elemTypeOf(shapes, s));
  const seed = "seed";
  b.addInput(seed, dimsOf(shapes, output));
  const info = (n: string) => shapes.get(rem.original(n));
  const out = rem.rename(output);
  const grads = buildBackward(b, {
    nodes: rem.nodes,
    info,
    constant: (n) => graph.constantValue(n),
    seeds: new Map([[out, seed]]),
    wrt: [z],
  });
  b.nodes.push({ opType: "Identity", input: [grads.get(z)!], output: ["grad:z"], name: "grad_z" });
  b.nodes.push({ opType: "Identity", input: [out], output: ["logits:r"], name: "logits_r" });
  return {
    model: assembleModel(model, b, {
      keepNodes: false,
      inputs: [],
      extraNodes: [...rem.constantNodes, ...rem.nodes],
      outputs: [
        valueInfo("logits:r", dimsOf(shapes, output)),
        valueInfo("grad:z", dimsOf(shapes, split)),
      ],
    }),
    seed,
    inputs: [z, ...rem.sideInputs],
    output: "logits:r",
    grads: new Map([[z, "grad:z"]]),
  };
}
