/**
 * The forward-pass-only workload: one classifier run per batch, logits read back to the host.
 * @module
 */
import type { WorkloadFactory } from "./workload.ts";

/** Forward pass of the model (input uploaded, logits read back each run). */
export const forwardWorkload: WorkloadFactory = {
  name: "forward",
  async create(ctx) {
    const session = await ctx.shared(
      "forward-session",
      () => ctx.runtime.createSession(ctx.model.bytes),
      (s) => s.release(),
    );
    const feeds = { [ctx.model.inputName]: ctx.input };
    const output = session.outputNames[0];
    return {
      name: "forward",
      model: ctx.model.name,
      backend: ctx.backend,
      batch: ctx.batch,
      async run() {
        await session.run(feeds, [output]);
      },
    };
  },
};
