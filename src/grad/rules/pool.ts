/**
 * Gradient rules of pooling. Both windowed pools differentiate into a depthwise ConvTranspose
 * with a constant kernel (runs on WASM and WebGPU alike); MaxPool never uses the Indices output,
 * which the WebGPU build cannot produce.
 * @module
 */
import { attrInt, attrInts } from "../../onnx/tensor.ts";
import type { GradContext, GradRule } from "../types.ts";
import { transposeFit, type WindowGeometry, windowGeometry } from "./geometry.ts";
import { padValue } from "./slicing.ts";

/** GlobalAveragePool: `dy / (H·W)` expanded back over the spatial axes. */
export const globalAveragePool: GradRule = (ctx) => {
  const spatial = ctx.inInfo(0).dims.slice(2);
  if (spatial.some((d) => d < 0)) ctx.fail("needs static spatial sizes");
  const count = spatial.reduce((a, b) => a * b, 1);
  const { b } = ctx;
  const scaled = b.op("Mul", [ctx.GO(0)!, b.scalar(1 / count)]);
  return [b.op("Expand", [scaled, b.op("Shape", [ctx.I(0)])], {}, "gap_grad")];
};

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** Static channel count, spatial sizes and window geometry of a pooling node. */
function poolSetup(ctx: GradContext): { c: number; g: WindowGeometry; outSpatial: number[] } {
  const dims = ctx.inInfo(0).dims, out = ctx.outInfo(0).dims;
  if (dims.slice(1).some((d) => d < 0) || out.slice(1).some((d) => d < 0)) {
    ctx.fail("needs static channel and spatial sizes");
  }
  const g = windowGeometry(ctx, attrInts(ctx.node, "kernel_shape", []));
  return { c: dims[1], g, outSpatial: out.slice(2) };
}

/**
 * ConvTranspose of `dy` ([N·C, m, out…]) with `kernel` ([m, 1, k…]) back onto the input, reshaped
 * to the input's shape. Channels ride in the batch axis so every conv has group 1: onnxruntime-web
 * 1.30's WebGPU grouped Conv gives wrong values when a group has several output channels
 * (measured: a [C·9, 1, 3, 3] group-C unfold differed from WASM by 0.87 on values in [0, 1]).
 */
function scatterBack(ctx: GradContext, g: WindowGeometry, dy: string, kernel: string) {
  const fit = transposeFit(ctx, g);
  const { b } = ctx;
  const back = b.op("ConvTranspose", [dy, kernel], {
    dilations: g.dilations,
    kernel_shape: g.kernel,
    output_padding: fit.outputPadding,
    pads: fit.pads,
    strides: g.strides,
  }, "pool_grad");
  return b.op("Reshape", [back, b.op("Shape", [ctx.I(0)])]);
}

/** `t` [N, C, s…] viewed as [N·C, 1, s…] (static C and spatial sizes). */
const channelsToBatch = (ctx: GradContext, t: string, spatial: number[]) =>
  ctx.b.op("Reshape", [t, ctx.b.int64([-1, 1, ...spatial])]);

/** How many window elements of each output position lie inside the input (compile time). */
function validCounts(g: WindowGeometry, inSpatial: number[], outSpatial: number[]): number[] {
  const r = inSpatial.length;
  const perAxis = outSpatial.map((n, a) =>
    Array.from({ length: n }, (_, p) => {
      let count = 0;
      for (let j = 0; j < g.kernel[a]; j++) {
        const i = p * g.strides[a] - g.pads[a] + j * g.dilations[a];
        if (i >= 0 && i < inSpatial[a]) count++;
      }
      return count;
    })
  );
  const total = prod(outSpatial);
  const out: number[] = [];
  for (let flat = 0; flat < total; flat++) {
    let rest = flat, v = 1;
    for (let a = r - 1; a >= 0; a--) {
      v *= perAxis[a][rest % outSpatial[a]];
      rest = Math.floor(rest / outSpatial[a]);
    }
    out.push(v);
  }
  return out;
}

/**
 * AveragePool: dy divided by each window's divisor, then spread over the window by a ones
 * kernel. The divisor depends on count_include_pad, ceil_mode and pads in ways exporters and
 * runtimes have disagreed on, so it is not re-derived: the graph pools a ones image with the
 * node's own settings (valid/divisor per window, folded to a constant by onnxruntime) and divides
 * by the valid count, giving exactly 1/divisor as the forward pass used it.
 */
export const averagePool: GradRule = (ctx) => {
  const { b, node } = ctx;
  const { g, outSpatial } = poolSetup(ctx);
  const inSpatial = ctx.inInfo(0).dims.slice(2);
  const r = inSpatial.length;
  const k = prod(g.kernel);
  let scaled: string;
  const overhang = outSpatial.some((n, a) =>
    (n - 1) * g.strides[a] + g.dilations[a] * (g.kernel[a] - 1) + 1 > inSpatial[a] + g.pads[a] +
        g.pads[a + r]
  );
  if (g.pads.every((p) => p === 0) && !overhang) {
    scaled = b.op("Mul", [ctx.GO(0)!, b.scalar(1 / k)]);
  } else {
    const ones = b.floatInit(
      "avgpool_ones",
      [1, 1, ...inSpatial],
      new Float32Array(prod(inSpatial)).fill(1),
    );
    const attrs: Record<string, number | number[]> = {
      kernel_shape: g.kernel,
      strides: g.strides,
      pads: g.pads,
      ceil_mode: attrInt(node, "ceil_mode", 0),
      count_include_pad: attrInt(node, "count_include_pad", 0),
    };
    if (g.dilations.some((d) => d !== 1)) attrs.dilations = g.dilations;
    const share = b.op("AveragePool", [ones], attrs, "avgpool_share");
    const valid = b.floatInit(
      "avgpool_valid",
      [1, 1, ...outSpatial],
      validCounts(g, inSpatial, outSpatial),
    );
    scaled = b.op("Mul", [ctx.GO(0)!, b.op("Div", [share, valid])]);
  }
  const kernel = b.floatInit(
    "avgpool_grad_kernel",
    [1, 1, ...g.kernel],
    new Float32Array(k).fill(1),
  );
  return [scatterBack(ctx, g, channelsToBatch(ctx, scaled, outSpatial), kernel)];
};

/**
 * MaxPool without the Indices output. Each window is unfolded into K = ∏kernel channels by a
 * Conv with one-hot kernels (channels moved to the batch axis; over the input padded with −1e30,
 * so padding never wins), ArgMax picks the winner of each window, and a one-hot routing of dy is folded back by
 * the transposed Conv. Ties: ArgMax keeps the FIRST maximum in raster order, so each window
 * sends its whole gradient to one element — the same element PyTorch's max_pool backward picks.
 * Overlapping windows that pick the same element add up, as in PyTorch.
 */
export const maxPool: GradRule = (ctx) => {
  const { b } = ctx;
  const { c, g, outSpatial } = poolSetup(ctx);
  const inSpatial = ctx.inInfo(0).dims.slice(2);
  const r = inSpatial.length, rank = r + 2;
  const k = prod(g.kernel);
  // Pad explicitly (ceil_mode windows may reach past the declared end pad).
  const pads = Array(2 * rank).fill(0);
  for (let a = 0; a < r; a++) {
    const need = (outSpatial[a] - 1) * g.strides[a] + g.dilations[a] * (g.kernel[a] - 1) + 1;
    pads[a + 2] = g.pads[a];
    pads[a + 2 + rank] = Math.max(g.pads[a + r], need - inSpatial[a] - g.pads[a]);
  }
  const xp = padValue(b, ctx.I(0), pads, -1e30);
  const hot = new Float32Array(k * k);
  for (let j = 0; j < k; j++) hot[j * k + j] = 1;
  const kernel = b.floatInit("maxpool_unfold", [k, 1, ...g.kernel], hot);
  const padded = inSpatial.map((n, a) => n + pads[a + 2] + pads[a + 2 + rank]);
  const unfolded = b.op("Conv", [channelsToBatch(ctx, xp, padded), kernel], {
    dilations: g.dilations,
    kernel_shape: g.kernel,
    strides: g.strides,
  }, "maxpool_unfold");
  const windows = b.op("Reshape", [unfolded, b.int64([-1, c, k, ...outSpatial])]);
  const winner = b.op("ArgMax", [windows], { axis: 2, keepdims: 1 });
  const slots = b.int64(Array.from({ length: k }, (_, j) => j), [
    1,
    1,
    k,
    ...outSpatial.map(() => 1),
  ]);
  const routed = b.op("Where", [
    b.op("Equal", [winner, slots]),
    b.unsqueeze(ctx.GO(0)!, [2]),
    b.scalar(0),
  ]);
  const flat = b.op("Reshape", [routed, b.int64([-1, k, ...outSpatial])]);
  const out: (string | null)[] = [scatterBack(ctx, g, flat, kernel)];
  return out;
};
