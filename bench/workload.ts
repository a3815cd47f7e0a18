/**
 * What a benchmark workload is: one timed operation on one backend at one batch size, built by a
 * factory per (model, backend, batch), and the deterministic input it runs on. The factories
 * (forward.ts, si.ts) and the list the benchmark runs (workloads.ts) build on these types.
 * @module
 */
import type { BackendName } from "../src/contract/backends.ts";
import type { HostTensor, Runtime } from "../src/runtime/types.ts";

/** One timed operation. `run` processes `batch` images. */
export interface Workload {
  readonly name: string;
  readonly model: string;
  readonly backend: BackendName;
  readonly batch: number;
  run(): Promise<void>;
}

/** A classifier the benchmark runs. */
export interface BenchModel {
  readonly name: string;
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly inputName: string;
  /** [C, H, W] */
  readonly inputDims: readonly [number, number, number];
  /**
   * "cifar": small-input backbones, scored over all normalizations (+ pooled features) and
   * against the authors' slow loop; "imagenet": 224-pixel models, scored with S&I and S&I-A over
   * the last 10 normalizations, and S&I over all normalizations at batch 1 for the cost ratio.
   */
  readonly family: "cifar" | "imagenet";
}

/** What a factory gets to build a workload. */
export interface WorkloadContext {
  readonly model: BenchModel;
  readonly backend: BackendName;
  readonly runtime: Runtime;
  readonly batch: number;
  /** Deterministic pre-processed input, [batch, C, H, W]. */
  readonly input: HostTensor;
  /**
   * Builds a value once per (model, backend) and shares it across batch sizes — sessions,
   * compiled scorers. `dispose` runs when the harness moves on to the next backend or model.
   */
  shared<T>(key: string, make: () => Promise<T>, dispose?: (v: T) => Promise<void>): Promise<T>;
}

/** Builds a workload, or returns undefined where it does not apply. */
export interface WorkloadFactory {
  readonly name: string;
  create(ctx: WorkloadContext): Promise<Workload | undefined>;
}

/** Deterministic input values with roughly the spread of normalized images. */
export function benchInput(batch: number, dims: readonly number[]): HostTensor {
  const n = batch * dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 2 ** 32) * 4 - 2;
  }
  return { type: "float32", dims: [batch, ...dims], data };
}
