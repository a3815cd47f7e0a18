/**
 * Gradient rules of normalization layers in inference mode.
 * @module
 */
import { attrFloat, attrInt } from "../../onnx/tensor.ts";
import type { GradRule } from "../types.ts";

/**
 * BatchNormalization (inference): `dx = dy · scale / sqrt(var + ε)` per channel; mean and bias
 * do not enter. The per-channel factor is computed once at compile time.
 */
export const batchNormalization: GradRule = (ctx) => {
  if (attrInt(ctx.node, "training_mode", 0) !== 0) ctx.fail("training_mode=1 is not supported");
  for (let i = 1; i < 5; i++) {
    if (ctx.needs(i)) {
      ctx.fail("gradients with respect to BatchNormalization parameters are not supported");
    }
  }
  const scale = ctx.constant(1), variance = ctx.constant(4);
  if (!scale || !variance) return ctx.fail("scale and variance must be constants");
  const eps = attrFloat(ctx.node, "epsilon", 1e-5);
  const rank = ctx.inInfo(0).dims.length;
  const factor = Array.from(
    scale,
    (s: number, c: number) => s / Math.sqrt(Number(variance[c]) + eps),
  );
  const shape = [factor.length, ...Array(Math.max(0, rank - 2)).fill(1)];
  return [
    ctx.b.op("Mul", [ctx.GO(0)!, ctx.b.float(factor, shape)], {}, "bn_grad"),
    null,
    null,
    null,
    null,
  ];
};
