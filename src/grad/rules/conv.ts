/**
 * Input-gradient of Conv. Stride-1 convolutions with constant weights differentiate into another
 * Conv (kernel flipped, channel axes swapped per group, prepared once at compile time), which
 * onnxruntime runs faster than ConvTranspose; everything else uses ConvTranspose with the
 * output_padding that lands exactly on the input size.
 * @module
 */
import { attrInts } from "../../onnx/tensor.ts";
import type { GradRule } from "../types.ts";
import { transposeFit, windowGeometry } from "./geometry.ts";

/** W [Cout, Cin/g, k…] → W' [Cin, Cout/g, k…], spatially flipped, channels swapped per group. */
function flippedKernel(w: ArrayLike<number>, dims: readonly number[], group: number): Float32Array {
  const [cout, cinG] = dims;
  const coutG = cout / group;
  const k = dims.slice(2).reduce((a, b) => a * b, 1);
  const out = new Float32Array(w.length);
  for (let g = 0; g < group; g++) {
    for (let co = 0; co < coutG; co++) {
      for (let ci = 0; ci < cinG; ci++) {
        const src = ((g * coutG + co) * cinG + ci) * k;
        const dst = ((g * cinG + ci) * coutG + co) * k;
        // Reversing the flattened spatial index flips every spatial axis at once.
        for (let s = 0; s < k; s++) out[dst + k - 1 - s] = w[src + s];
      }
    }
  }
  return out;
}

/** Conv: gradient with respect to the input only (weights and bias must be constants). */
export const conv: GradRule = (ctx) => {
  if (ctx.needs(1) || ctx.needs(2)) {
    ctx.fail("gradients with respect to weights or bias are not supported");
  }
  if (!ctx.needs(0)) return [null, null, null];
  const dy = ctx.GO(0)!;
  const wDims = ctx.inInfo(1).dims;
  const g = windowGeometry(ctx, attrInts(ctx.node, "kernel_shape", wDims.slice(2)));
  const x = ctx.inInfo(0).dims;
  const r = x.length - 2;
  const w = ctx.constant(1);
  const flipPads: number[] = [];
  for (let a = 0; a < r; a++) flipPads[a] = g.dilations[a] * (g.kernel[a] - 1) - g.pads[a];
  for (let a = 0; a < r; a++) flipPads[a + r] = g.dilations[a] * (g.kernel[a] - 1) - g.pads[a + r];
  const stride1 = g.strides.every((s) => s === 1);
  if (w && stride1 && flipPads.every((p) => p >= 0)) {
    const [cout, cinG] = wDims;
    const flippedDims = [cinG * g.group, cout / g.group, ...wDims.slice(2)];
    const wf = ctx.b.memo(
      `conv-flipped:${ctx.node.input![1]}:${g.group}`,
      () => ctx.b.floatInit("conv_grad_weight", flippedDims, flippedKernel(w, wDims, g.group)),
    );
    return [
      ctx.b.op("Conv", [dy, wf], {
        dilations: g.dilations,
        group: g.group,
        kernel_shape: g.kernel,
        pads: flipPads,
        strides: g.strides,
      }, "conv_grad"),
      null,
      null,
    ];
  }
  const fit = transposeFit(ctx, g);
  return [
    ctx.b.op("ConvTranspose", [dy, ctx.I(1)], {
      dilations: g.dilations,
      group: g.group,
      kernel_shape: g.kernel,
      output_padding: fit.outputPadding,
      pads: fit.pads,
      strides: g.strides,
    }, "conv_grad"),
    null,
    null,
  ];
};
