/**
 * Spatial geometry shared by Conv and the pooling rules: explicit pads after `auto_pad`, and
 * the ConvTranspose settings that land a backward pass exactly on the forward input size.
 * @module
 */
import { attrInt, attrInts, attrString } from "../../onnx/tensor.ts";
import type { GradContext } from "../types.ts";

/** Explicit window geometry after resolving defaults and auto_pad. */
export interface WindowGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** [begin_0, begin_1, …, end_0, end_1, …] as in ONNX. */
  pads: number[];
  group: number;
}

/** Reads strides/dilations/pads/auto_pad/group of a Conv or pooling node with `kernel`. */
export function windowGeometry(ctx: GradContext, kernel: number[]): WindowGeometry {
  const { node } = ctx;
  const x = ctx.inInfo(0).dims;
  const r = x.length - 2;
  const strides = attrInts(node, "strides", Array(r).fill(1));
  const dilations = attrInts(node, "dilations", Array(r).fill(1));
  let pads = attrInts(node, "pads", Array(2 * r).fill(0));
  const autoPad = attrString(node, "auto_pad", "NOTSET");
  if (autoPad === "VALID") pads = Array(2 * r).fill(0);
  else if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    pads = Array(2 * r).fill(0);
    for (let a = 0; a < r; a++) {
      const size = x[a + 2];
      if (size < 0) ctx.fail("auto_pad needs static spatial sizes");
      const out = Math.ceil(size / strides[a]);
      const total = Math.max(0, (out - 1) * strides[a] + dilations[a] * (kernel[a] - 1) + 1 - size);
      const small = Math.floor(total / 2);
      pads[a] = autoPad === "SAME_UPPER" ? small : total - small;
      pads[a + r] = total - pads[a];
    }
  }
  return { kernel, strides, dilations, pads, group: attrInt(node, "group", 1) };
}

/**
 * Pads and output_padding for a ConvTranspose that maps an output-sized gradient back onto the
 * input. When a window reaches past the padded input (pooling with ceil_mode), the end pad grows
 * instead: ConvTranspose pads crop, and what they crop lies outside the input.
 */
export function transposeFit(
  ctx: GradContext,
  g: WindowGeometry,
): { pads: number[]; outputPadding: number[] } {
  const x = ctx.inInfo(0).dims, y = ctx.outInfo(0).dims;
  const r = x.length - 2;
  const pads = [...g.pads];
  const outputPadding: number[] = [];
  for (let a = 0; a < r; a++) {
    const size = x[a + 2], outSize = y[a + 2];
    if (size < 0 || outSize < 0) ctx.fail("needs static spatial sizes");
    const produced = (outSize - 1) * g.strides[a] + g.dilations[a] * (g.kernel[a] - 1) + 1 -
      g.pads[a] - g.pads[a + r];
    if (produced > size) {
      pads[a + r] += produced - size;
      outputPadding.push(0);
    } else outputPadding.push(size - produced);
  }
  return { pads, outputPadding };
}
