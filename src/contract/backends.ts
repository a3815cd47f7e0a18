/**
 * Backend names: which onnxruntime build executes a graph. Part of the contract because
 * configuration, manifests, the CLIs and benchmark results name backends without loading one.
 * @module
 */

/** Which onnxruntime build executes a graph. */
export type BackendName = "wasm" | "webgpu" | "native";

/** Every backend, in the order the automatic choice considers them. */
export const BACKENDS: readonly BackendName[] = ["native", "wasm", "webgpu"];

/** A backend as configured by a user: a name, or "auto" (native if it loads, else wasm). */
export type BackendChoice = BackendName | "auto";
