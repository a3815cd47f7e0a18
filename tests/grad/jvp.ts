/**
 * Forward-mode differentiation (Jacobian-vector products) of a remainder graph, for the ops of
 * the Wide-ResNet fixture: an independent second derivative of the same function. Reverse mode
 * gives gᵀv, forward mode gives (Jv)_c; both are exact for the activation pattern at the point,
 * so unlike finite differences they agree to float32 rounding even next to ReLU kinks.
 * @module
 */
import { cloneRemainder } from "../../src/grad/remainder.ts";
import { assembleModel } from "../../src/onnx/assemble.ts";
import { GraphBuilder, valueInfo } from "../../src/onnx/builder.ts";
import { Graph } from "../../src/onnx/graph.ts";
import { type ModelProto, opsetOf } from "../../src/onnx/proto.ts";
import type { ShapeMap } from "../../src/onnx/shapes.ts";
import { attrFloat } from "../../src/onnx/tensor.ts";

/** A model with inputs z, the side inputs and tangent "v"; outputs "logits:r" and "jvp". */
export function jvpModel(model: ModelProto, shapes: ShapeMap, split: string) {
  const graph = new Graph(model);
  const rem = cloneRemainder(graph, split, "z", "#j");
  const names = [...graph.initializers.keys(), ...rem.nodes.flatMap((n) => n.output ?? [])];
  const b = new GraphBuilder(opsetOf(model), [...names, "z", "v"], "jvp");
  const dims = (n: string) => (shapes.get(rem.original(n))?.dims ?? []).map((d) => d < 0 ? "N" : d);
  b.addInput("z", dims("z"));
  for (const s of rem.sideInputs) b.addInput(s, dims(s));
  b.addInput("v", dims("z"));
  const tangent = new Map<string, string>([["z", "v"]]);
  for (const n of rem.nodes) {
    const ins = n.input ?? [], out = n.output![0];
    const t = ins.map((i) => tangent.get(i));
    if (t.every((x) => !x)) continue;
    const op = n.opType!;
    let ty: string;
    if (op === "Conv") ty = b.op("Conv", [t[0]!, ins[1]], {}, "jvp_conv");
    else if (op === "Relu") {
      ty = b.op("Where", [b.op("Greater", [ins[0], b.scalar(0)]), t[0]!, b.scalar(0)]);
    } else if (op === "BatchNormalization") {
      const s = graph.constantValue(ins[1])!, v = graph.constantValue(ins[4])!;
      const eps = attrFloat(n, "epsilon", 1e-5);
      const f = Array.from(s, (x, c) => Number(x) / Math.sqrt(Number(v[c]) + eps));
      ty = b.op("Mul", [t[0]!, b.float(f, [f.length, 1, 1])]);
    } else if (op === "Add") ty = t[0] && t[1] ? b.op("Add", [t[0], t[1]]) : (t[0] ?? t[1])!;
    else if (op === "GlobalAveragePool" || op === "Flatten") ty = b.op(op, [t[0]!]);
    else if (op === "Reshape") ty = b.op("Reshape", [t[0]!, ins[1]]);
    else if (op === "Gemm") ty = b.op("Gemm", [t[0]!, ins[1]], {}, "jvp_gemm");
    else throw new Error(`jvpModel: no forward-mode rule for ${op}`);
    // Conv and Gemm keep their geometry/transposes but drop alpha-free biases (C, B inputs).
    if (op === "Conv" || op === "Gemm") b.nodes.at(-1)!.attribute = n.attribute;
    tangent.set(out, ty);
  }
  const logits = rem.rename(graph.outputNames[0]);
  b.nodes.push({ opType: "Identity", input: [tangent.get(logits)!], output: ["jvp"], name: "jvp" });
  b.nodes.push({ opType: "Identity", input: [logits], output: ["logits:r"], name: "logits_r" });
  const outDims = dims(graph.outputNames[0]);
  return assembleModel(model, b, {
    keepNodes: false,
    inputs: [],
    extraNodes: [...rem.constantNodes, ...rem.nodes],
    outputs: [valueInfo("logits:r", outDims), valueInfo("jvp", outDims)],
  });
}
