/**
 * A scoring graph's outputs → one ImageScore per image: score, class, confidence, per-split
 * layers and the energy of gradient methods, and the reason when a score is not finite.
 * @module
 */
import type { HostTensor } from "../runtime/types.ts";
import type { ImageScore, Method } from "../contract/scoring.ts";
import { isGradientMethod } from "../contract/methods.ts";
import { OUT } from "../si/compile.ts";

/** Why a method's score came out NaN or infinite (ImageScore.error). */
function unscorableReason(method: Method, score: number): string {
  const what = `the ${method} score is ${score}`;
  if (method === "si_a" || method === "gaia_a") {
    return `${what}: its output component o is 0 (the gradient of the summed log-softmax ` +
      `vanished, as when the logits are equal to float32 precision), so q/o is undefined; ` +
      `the model's classifier may be untrained — try "energy" or "si"`;
  }
  return `${what}: the model's outputs or gradients are not finite for this image`;
}

/**
 * One {@link ImageScore} per image from a scoring graph's outputs (`count` rows of a batch); a
 * score that is not finite carries the reason as its `error`.
 */
export function toScores(
  out: Record<string, HostTensor>,
  count: number,
  method: Method,
): ImageScore[] {
  const withLayers = isGradientMethod(method);
  const score = out[OUT.score].data as Float32Array;
  const cls = out[OUT.cls].data as BigInt64Array;
  const conf = out[OUT.confidence].data as Float32Array;
  const layers = withLayers ? out[OUT.layers] : undefined;
  const energy = withLayers ? out[OUT.energy]?.data as Float32Array | undefined : undefined;
  const l = layers ? layers.dims[1] : 0;
  return Array.from({ length: count }, (_, i) => ({
    score: score[i],
    class: Number(cls[i]),
    confidence: conf[i],
    ...(layers
      ? { layers: Array.from((layers.data as Float32Array).subarray(i * l, (i + 1) * l)) }
      : {}),
    ...(energy ? { energy: energy[i] } : {}),
    ...(Number.isFinite(score[i]) ? {} : { error: unscorableReason(method, score[i]) }),
  }));
}
