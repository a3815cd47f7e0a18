/**
 * Wraps an onnxruntime `InferenceSession` as a {@link DeviceSession}: host tensors in and out,
 * and outputs that may stay in device memory between runs.
 * @module
 */
import type { Ort } from "./backends.ts";
import type {
  BackendName,
  DeviceSession,
  DeviceTensor,
  DType,
  HostTensor,
  RunValue,
} from "./types.ts";
import { isDeviceTensor } from "./types.ts";

/** The onnxruntime tensor behind each device tensor this module handed out. */
const handles = new WeakMap<DeviceTensor, { tensor: Ort; disposed: boolean }>();

/** Wraps a created session; `deviceOutputs` are the outputs `runOnDevice` leaves on the device. */
export function wrapSession(
  ort: Ort,
  backend: BackendName,
  session: Ort,
  deviceOutputs: readonly string[] = [],
): DeviceSession {
  const keep = new Set(deviceOutputs);
  const exec = async (feeds: Record<string, RunValue>, outputs?: readonly string[]) => {
    const ortFeeds: Record<string, Ort> = {};
    for (const [name, v] of Object.entries(feeds)) ortFeeds[name] = toOrt(ort, backend, name, v);
    return (outputs
      ? await session.run(ortFeeds, [...outputs])
      : await session.run(ortFeeds)) as Record<string, Ort>;
  };
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds, outputs) {
      const result = await exec(feeds, outputs);
      const out: Record<string, HostTensor> = {};
      for (const [name, t] of Object.entries(result)) out[name] = await toHost(t, true);
      return out;
    },
    async runOnDevice(feeds, outputs) {
      const result = await exec(feeds, outputs);
      const out: Record<string, RunValue> = {};
      for (const [name, t] of Object.entries(result)) {
        out[name] = keep.has(name) ? deviceTensor(backend, t) : await toHost(t, true);
      }
      return out;
    },
    async release() {
      await session.release();
    },
  };
}

function toOrt(ort: Ort, backend: BackendName, name: string, v: RunValue): Ort {
  if (!isDeviceTensor(v)) return new ort.Tensor(v.type, v.data, v.dims);
  const h = handles.get(v);
  if (!h) throw new TypeError(`Feed "${name}" is not a device tensor made by this runtime`);
  if (h.disposed) throw new Error(`Feed "${name}" is a device tensor that was already disposed`);
  if (v.backend !== backend) {
    throw new Error(`Feed "${name}" lives on backend "${v.backend}", not "${backend}"`);
  }
  return h.tensor;
}

/** Reads an onnxruntime tensor into host memory; `release` frees a GPU buffer after reading. */
async function toHost(t: Ort, release: boolean): Promise<HostTensor> {
  const data = t.location && t.location !== "cpu" ? await t.getData(release) : t.data;
  return { type: t.type as DType, dims: [...t.dims], data };
}

function deviceTensor(backend: BackendName, t: Ort): DeviceTensor {
  const dt: DeviceTensor = {
    kind: "device",
    backend,
    type: t.type as DType,
    dims: [...t.dims],
    location: t.location === "gpu-buffer" ? "gpu-buffer" : "cpu",
    read() {
      const h = handles.get(dt)!;
      if (h.disposed) return Promise.reject(new Error("Device tensor was already disposed"));
      return toHost(h.tensor, false);
    },
    dispose() {
      const h = handles.get(dt)!;
      if (h.disposed) return;
      h.disposed = true;
      // CPU tensors are plain arrays the garbage collector frees; GPU buffers need dispose().
      if (dt.location === "gpu-buffer") h.tensor.dispose();
    },
  };
  handles.set(dt, { tensor: t, disposed: false });
  return dt;
}
