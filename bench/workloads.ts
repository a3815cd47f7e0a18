/**
 * What the benchmark measures, in the order it runs: one line per workload factory; adding a
 * measurement (e.g. the S&I fast path or the slow per-split loop) is one line in
 * {@link MODEL_WORKLOADS}. The workload types live in workload.ts, so the factories need not
 * import this list.
 * @module
 */
import { forwardWorkload } from "./forward.ts";
import { IMAGENET_WORKLOADS, siLoopWorkload, siWorkload } from "./si.ts";
import type { WorkloadFactory } from "./workload.ts";

/**
 * The per-model workloads, in the order they run; one line each. A factory's `create` builds
 * its expensive state once through `ctx.shared` and returns a `run` that handles `ctx.input`.
 */
export const MODEL_WORKLOADS: readonly WorkloadFactory[] = [
  forwardWorkload,
  siWorkload("si-fast"),
  siLoopWorkload("si-loop"),
  ...IMAGENET_WORKLOADS,
];
