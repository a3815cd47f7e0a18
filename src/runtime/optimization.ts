/**
 * The graph optimisation every product session runs with: onnxruntime's level "all", minus the
 * transformers that change results.
 *
 * `Pad_Fusion` (a level-1 rewrite rule, `onnxruntime/core/optimizer/pad_fusion.cc`) folds a
 * constant-0 `Pad` into the `pads` of a following `Conv` or `MaxPool`. For Conv that is exact;
 * for MaxPool it is not: MaxPool pads with −∞, so every border window whose values are all
 * negative returns its largest negative value instead of 0. Every BiT / ResNetV2 export has the
 * pattern (root: conv → `ConstantPad2d(1, 0)` → `MaxPool(3, 2)`), and with the fusion the tiny-BiT
 * fixture's logits moved by up to 1.6e-3 relative on noise images. onnxruntime 1.30 reads the
 * session config entry `optimization.disable_specified_optimizers` (a comma-separated list of
 * transformer and rewrite-rule names) in onnxruntime-node and onnxruntime-web alike
 * (`SessionOptions.extra` becomes config entries); measured to restore the unfused result on
 * native, wasm and webgpu (`tests/runtime/optimizer_guard_test.ts` pins both behaviours). Conv
 * loses its Pad fold too, which the exported models here never need (torch puts a Conv's padding
 * in its `pads`).
 * @module
 */
import type { OptimizationChoice } from "./types.ts";

/** onnxruntime transformers the product turns off, by the names onnxruntime registers. */
export const DISABLED_OPTIMIZERS: readonly string[] = ["Pad_Fusion"];

/** The onnxruntime session options that select an optimisation choice. */
export function optimizationOptions(choice: OptimizationChoice = "product"): {
  graphOptimizationLevel: "all" | "disabled";
  extra?: Record<string, unknown>;
} {
  if (choice === "disabled") return { graphOptimizationLevel: "disabled" };
  return {
    graphOptimizationLevel: "all",
    extra: { optimization: { disable_specified_optimizers: DISABLED_OPTIMIZERS.join(",") } },
  };
}
