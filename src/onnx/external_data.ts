/**
 * ONNX's external-data format: a model whose large initializers live in a side file
 * (`TensorProto.data_location = EXTERNAL`, keys `location`, `offset`, `length`).
 *
 * Why: onnxruntime-node creates a session from such a file without a second copy of the weights
 * in its parsed protobuf (it maps the side file), and the compiler never has to hold the whole
 * serialized graph in JavaScript. For the CIFAR ResNet-34's 164 MB scoring graph this cut the
 * peak RSS of session creation by ≈ 70 MB and the JavaScript copy by 164 MB
 * (docs/performance.md, "Memory budget").
 * @module
 */
import { type ModelProto, onnx, type TensorProto } from "./proto.ts";

/** Where each externalized initializer's bytes go in the side file. */
export interface ExternalBlock {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

/** A model split into its graph (small) and the blocks of its side file. */
export interface ExternalizedModel {
  /** The model with large initializers pointing into the side file; the input is not changed. */
  readonly model: ModelProto;
  /** Side-file blocks in offset order; gaps between them are zero padding. */
  readonly blocks: readonly ExternalBlock[];
  /** Length of the side file in bytes. */
  readonly dataBytes: number;
}

/** Initializers smaller than this stay inside the graph file (onnxruntime's own default). */
const MIN_EXTERNAL_BYTES = 1024;
/** Block offsets are page-aligned, so onnxruntime can map each block without copying it. */
const ALIGN = 4096;

/**
 * Moves every initializer stored as `raw_data` of at least 1 KiB into a side file named
 * `location` (relative to the graph file). Initializers in typed fields stay inline.
 */
export function externalize(model: ModelProto, location: string): ExternalizedModel {
  if (!/^[^/\\]+$/.test(location)) {
    throw new RangeError(`External data location "${location}" must be a plain file name`);
  }
  const blocks: ExternalBlock[] = [];
  let end = 0;
  const initializer = (model.graph?.initializer ?? []).map((t): TensorProto => {
    const raw = t.rawData;
    if (!raw || raw.length < MIN_EXTERNAL_BYTES) return t;
    const offset = Math.ceil(end / ALIGN) * ALIGN;
    blocks.push({ offset, bytes: raw });
    end = offset + raw.length;
    const entry = (key: string, value: string) =>
      onnx.StringStringEntryProto.create({ key, value });
    return onnx.TensorProto.create({
      name: t.name,
      dims: t.dims,
      dataType: t.dataType,
      docString: t.docString,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        entry("location", location),
        entry("offset", String(offset)),
        entry("length", String(raw.length)),
      ],
    });
  });
  const graph = onnx.GraphProto.create({ ...model.graph, initializer });
  return { model: onnx.ModelProto.create({ ...model, graph }), blocks, dataBytes: end };
}
