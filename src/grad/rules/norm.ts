/**
 * Gradient rules of normalization layers in inference mode.
 * @module
 */
import { attrFloat, attrInt } from "../../onnx/tensor.ts";
import type { GradContext, GradRule } from "../types.ts";

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

/**
 * The input-gradient of `x̂ = (x − mean)/sqrt(var + ε)` over `axes`, given `gh` = dL/dx̂:
 * `(gh − mean(gh) − x̂·mean(gh·x̂)) / sqrt(var + ε)`. Statistics are recomputed from x, as the
 * forward pass computed them (instance statistics are per image, not stored).
 */
function normalizeBack(ctx: GradContext, x: string, gh: string, axes: number[]): string {
  const { b } = ctx;
  const eps = attrFloat(ctx.node, "epsilon", 1e-5);
  const mean = (t: string) => b.reduce("ReduceMean", t, axes, true);
  const xc = b.op("Sub", [x, mean(x)]);
  const variance = mean(b.op("Mul", [xc, xc]));
  const inv = b.op("Reciprocal", [b.op("Sqrt", [b.op("Add", [variance, b.scalar(eps)])])]);
  const xhat = b.op("Mul", [xc, inv]);
  const centered = b.op("Sub", [gh, mean(gh)]);
  const along = b.op("Mul", [xhat, mean(b.op("Mul", [gh, xhat]))]);
  return b.op("Mul", [inv, b.op("Sub", [centered, along])], {}, "norm_grad");
}

/** `scale` (input 1) shaped [n, 1, …] (`trailing` ones) to broadcast against channels/groups. */
function perChannel(ctx: GradContext, trailing: number): string {
  const { b } = ctx;
  const n = ctx.inInfo(1).dims[0];
  const value = ctx.constant(1);
  const dims = [n, ...Array(trailing).fill(1)];
  if (value) return b.float(Array.from(value, Number), dims);
  return b.op("Reshape", [ctx.I(1), b.int64([-1, ...Array(trailing).fill(1)])]);
}

function noParamGrads(ctx: GradContext): void {
  if (ctx.needs(1) || ctx.needs(2)) {
    ctx.fail("gradients with respect to normalization parameters are not supported");
  }
}

/** InstanceNormalization: per image and channel over the spatial axes. */
export const instanceNormalization: GradRule = (ctx) => {
  noParamGrads(ctx);
  const rank = ctx.inInfo(0).dims.length;
  const gh = ctx.b.op("Mul", [ctx.GO(0)!, perChannel(ctx, rank - 2)]);
  const axes = Array.from({ length: rank - 2 }, (_, k) => k + 2);
  return [normalizeBack(ctx, ctx.I(0), gh, axes), null, null];
};

/**
 * GroupNormalization: statistics per image and group of channels. Opset 18 scales per group
 * (scale/bias shaped [G], applied to the grouped view); opset 21 per channel ([C]).
 */
export const groupNormalization: GradRule = (ctx) => {
  noParamGrads(ctx);
  const { b } = ctx;
  const groups = attrInt(ctx.node, "num_groups", 0);
  if (groups <= 0) ctx.fail("num_groups must be positive");
  const rank = ctx.inInfo(0).dims.length;
  const grouped = (t: string) => b.op("Reshape", [t, b.int64([0, groups, -1])]);
  const gh = b.opset >= 21
    ? grouped(b.op("Mul", [ctx.GO(0)!, perChannel(ctx, rank - 2)]))
    : b.op("Mul", [grouped(ctx.GO(0)!), perChannel(ctx, 1)]);
  const dx = normalizeBack(ctx, grouped(ctx.I(0)), gh, [2]);
  return [b.op("Reshape", [dx, b.op("Shape", [ctx.I(0)])], {}, "groupnorm_grad"), null, null];
};

/**
 * LayerNormalization (opset 17): statistics per position over the axes from `axis` to the last;
 * `scale` is shaped like those trailing axes, so it broadcasts against the gradient as it is.
 */
export const layerNormalization: GradRule = (ctx) => {
  noParamGrads(ctx);
  if (ctx.GO(1) !== null || ctx.GO(2) !== null) {
    ctx.fail("gradients through the Mean and InvStdDev outputs are not supported");
  }
  const rank = ctx.inInfo(0).dims.length;
  const axis = attrInt(ctx.node, "axis", -1);
  const first = axis < 0 ? axis + rank : axis;
  const axes = Array.from({ length: rank - first }, (_, k) => k + first);
  const gh = ctx.b.op("Mul", [ctx.GO(0)!, ctx.I(1)]);
  return [normalizeBack(ctx, ctx.I(0), gh, axes), null, null];
};
