/**
 * Static shapes and element types of every tensor in a graph, found by running it.
 *
 * Why a probe instead of shape inference: onnxruntime already knows every op's shape rules
 * exactly, and classifiers have fixed input sizes; re-implementing ONNX shape inference for
 * every supported op would be a second, divergent source of truth. The model runs twice (batch 1
 * and batch 2); a dimension that differs between the runs is batch-dependent and recorded as -1.
 *
 * Tensors computable from initializers alone (e.g. BiT's weight-standardised kernels, when the
 * caller has not folded them: src/engine/constant_fold.ts) do not depend on the batch, so they
 * are fetched in the first run only; the engine folds them before probing, so there it has none.
 * The probe is not on a restart's path: the engine caches its result (src/engine/model_prep.ts).
 *
 * Static batch: when the model's input declares a fixed batch size (e.g. `[1, 3, 224, 224]`, as
 * `torch.onnx.export` writes without `dynamic_axes`), the model can only run at that batch, so it
 * is probed once at that size and every dimension is kept as-is (nothing is -1). Gradients then
 * work at that batch size only, and several seeds per pass (`seedCount` > 1, which tiles the
 * batch) are not available for such a model.
 * @module
 */
import type { HostTensor, Runtime } from "./types.ts";
import type { DType, ShapeMap, TensorInfo } from "../onnx/shapes.ts";
import { type ModelProto, onnx } from "../onnx/proto.ts";
import { Graph } from "../onnx/graph.ts";
import { staticBatch } from "../onnx/input_dims.ts";

/**
 * Runs the model at batch 1 and 2 (once at its batch when the input declares a fixed one) and
 * records every intermediate tensor's type and shape.
 */
export async function probeShapes(
  model: ModelProto,
  runtime: Runtime,
  inputDims: readonly number[],
): Promise<ShapeMap> {
  const graph = new Graph(model);
  if (graph.inputNames.length !== 1) {
    throw new Error(
      `Cannot compile a model with ${graph.inputNames.length} inputs: only single-input classifiers are supported`,
    );
  }
  const inputName = graph.inputNames[0];
  const probe = onnx.ModelProto.create({
    ...model,
    graph: onnx.GraphProto.create({ ...model.graph }),
  });
  const names: string[] = [];
  for (const n of graph.nodes) {
    if (n.opType === "Constant") continue;
    for (const o of n.output ?? []) if (o) names.push(o);
  }
  probe.graph!.output = names.map((name) => onnx.ValueInfoProto.create({ name }));
  const session = await runtime.createSession(onnx.ModelProto.encode(probe).finish(), {
    oneOff: true,
  });
  try {
    // Only types and dims are kept: holding every intermediate tensor's data of both runs
    // peaked at 1.07 GB for a 224-pixel ResNet-50 (0.5 GB of it the data).
    const runs: Record<string, Omit<HostTensor, "data">>[] = [];
    const fixed = staticBatch(model, inputName);
    const batches = fixed === undefined ? [1, 2] : [fixed];
    for (const batch of batches) {
      const n = batch * inputDims.reduce((a, b) => a * b, 1);
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = Math.sin(i * 12.9898) * 0.5;
      const feeds = {
        [inputName]: { type: "float32" as const, dims: [batch, ...inputDims], data },
      };
      const out: Record<string, Omit<HostTensor, "data">> = {};
      const fetch = runs.length === 0 ? names : names.filter((n) => !graph.isConstant(n));
      const chunk = runtime.backend === "native" ? NATIVE_PROBE_CHUNK : PROBE_CHUNK;
      for (let i = 0; i < fetch.length; i += chunk) {
        const got = await session.run(feeds, fetch.slice(i, i + chunk));
        for (const [name, t] of Object.entries(got)) out[name] = { type: t.type, dims: t.dims };
      }
      runs.push(out);
    }
    const map = new Map<string, TensorInfo>();
    map.set(inputName, { type: "float32", dims: [fixed ?? -1, ...inputDims] });
    for (const name of names) {
      const a = runs[0][name], b = runs[runs.length - 1][name] ?? a;
      if (!a || !b) continue;
      const dims = a.dims.map((d, i) => (b.dims[i] === d ? d : -1));
      map.set(name, { type: a.type, dims });
    }
    addConstantInfo(graph, map);
    return map;
  } finally {
    await session.release();
  }
}

/**
 * Outputs fetched per probe run: fetching every intermediate tensor at once keeps all of them
 * alive together (in onnxruntime and as copies in JavaScript), which for a large input (224×224)
 * can exceed what the 4 GB WASM heap holds, and a run that grows the WASM heap sometimes never
 * resolves on onnxruntime-web 1.30's threaded build (seen in Deno under load). 16 lowered the
 * probe's peak for a 224-pixel ResNet-50 a little (791 → 754 MB, native) but made the threaded
 * wasm build hang on the bundled model (see `wasmThreads` in backends.ts), so 32 stays.
 */
const PROBE_CHUNK = 32;
/**
 * Outputs fetched per probe run on the native backend (no 4 GB heap, no threaded-wasm hang).
 * onnxruntime runs the whole model for every run whatever is fetched, so the chunk size sets the
 * probe's time: on the BiT-R101-style net (1 472 tensors, 224 px, folded) 32 took 48.8 s and peaked
 * at 1.97 GB, 128 took 14.6 s and 2.24 GB, 256 took 9.4 s and 2.36 GB (load average ≈ 8). The probe
 * runs only when the cache is cold (src/engine/model_prep.ts).
 */
const NATIVE_PROBE_CHUNK = 128;

const ELEM_TYPES: Record<number, DType> = {
  1: "float32",
  2: "uint8",
  6: "int32",
  7: "int64",
  9: "bool",
};

/** ONNX element type names, for messages about the ones the project does not handle. */
const ONNX_TYPE_NAMES: Record<number, string> = {
  3: "int8",
  4: "uint16",
  5: "int16",
  8: "string",
  10: "float16",
  11: "double",
  12: "uint32",
  13: "uint64",
  16: "bfloat16",
};

/** The project's element type of an ONNX tensor; other types fail here, by name. */
function elemType(name: string, dataType: number | null | undefined): DType {
  const t = ELEM_TYPES[dataType ?? 1];
  if (t) return t;
  throw new TypeError(
    `Tensor "${name}" has element type ${ONNX_TYPE_NAMES[dataType!] ?? `#${dataType}`}, which ` +
      `the compiler does not handle (supported: ${Object.values(ELEM_TYPES).join(", ")}); ` +
      `export the model in float32`,
  );
}

/** Initializers and Constant outputs are not probed; their info comes from the tensors. */
function addConstantInfo(graph: Graph, map: Map<string, TensorInfo>): void {
  for (const [name, t] of graph.initializers) {
    map.set(name, {
      type: elemType(name, t.dataType),
      dims: (t.dims ?? []).map(Number),
    });
  }
  for (const n of graph.nodes) {
    if (n.opType !== "Constant") continue;
    const t = n.attribute?.find((a) => a.name === "value")?.t;
    if (t) {
      map.set(n.output![0], {
        type: elemType(n.output![0], t.dataType),
        dims: (t.dims ?? []).map(Number),
      });
    }
  }
}
