/**
 * ONNX protobuf access through the maintained `onnx-proto` package (protobufjs static code).
 * @module
 */
import pkg from "onnx-proto";

/** The generated `onnx` protobuf namespace. */
export const onnx = (pkg as unknown as { onnx: typeof import("onnx-proto").onnx }).onnx;

export type ModelProto = import("onnx-proto").onnx.ModelProto;
export type GraphProto = import("onnx-proto").onnx.IGraphProto;
export type NodeProto = import("onnx-proto").onnx.INodeProto;
export type TensorProto = import("onnx-proto").onnx.ITensorProto;
export type AttributeProto = import("onnx-proto").onnx.IAttributeProto;
export type ValueInfoProto = import("onnx-proto").onnx.IValueInfoProto;

/** Decodes a serialized ONNX model; `source` names it in errors. */
export function readModel(bytes: Uint8Array, source = "model"): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`Cannot read ONNX model "${source}": ${(e as Error).message}`);
  }
  if (!model.graph || !model.graph.node?.length) {
    throw new Error(`Cannot read ONNX model "${source}": it has no graph nodes`);
  }
  return model;
}

/** Serializes a model. */
export function writeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** The default-domain opset version a model imports. */
export function opsetOf(model: ModelProto): number {
  for (const o of model.opsetImport ?? []) {
    if (!o.domain || o.domain === "ai.onnx") return Number(o.version);
  }
  throw new Error("Model imports no ai.onnx opset");
}
