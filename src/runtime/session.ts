/**
 * Wraps an onnxruntime `InferenceSession` as a {@link GraphSession}: host tensors in and out.
 * Element types outside {@link DType} fail loudly by name: a float16 or double output read as
 * float32 would give garbage scores without an error.
 * @module
 */
import type { OrtModule, OrtSession, OrtTensor } from "./backends.ts";
import { releaseFreedHeap } from "./heap.ts";
import type { GraphSession, HostTensor } from "./types.ts";
import { DTYPES } from "../onnx/shapes.ts";

/** Wraps a created session. */
export function wrapSession(ort: OrtModule, session: OrtSession): GraphSession {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds, outputs) {
      const ortFeeds: Record<string, OrtTensor> = {};
      for (const [name, v] of Object.entries(feeds)) {
        ortFeeds[name] = new ort.Tensor(v.type, v.data, v.dims);
      }
      const result = outputs
        ? await session.run(ortFeeds, [...outputs])
        : await session.run(ortFeeds);
      const out: Record<string, HostTensor> = {};
      for (const [name, t] of Object.entries(result)) out[name] = await toHost(name, t);
      return out;
    },
    async release() {
      await session.release();
      releaseFreedHeap();
    },
  };
}

/** Reads an onnxruntime tensor into host memory (a GPU buffer is released after reading). */
async function toHost(name: string, t: OrtTensor): Promise<HostTensor> {
  const type = t.type;
  if (!(DTYPES as readonly string[]).includes(type)) {
    throw new TypeError(
      `Output "${name}" has element type ${type}, which this runtime does not read ` +
        `(supported: ${DTYPES.join(", ")}); export the model in float32`,
    );
  }
  const data = t.location !== "cpu" ? await t.getData(true) : t.data;
  return { type: type as HostTensor["type"], dims: [...t.dims], data: data as HostTensor["data"] };
}
