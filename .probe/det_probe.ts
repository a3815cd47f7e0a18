import { getRuntime } from "../src/runtime/runtime.ts";
import { bundledModel, difference, engineGraphs, photoBatch, runGraph } from "../tests/runtime/optimizer_guard.ts";
const m = await bundledModel(Deno.args[0]);
const { graphs } = await engineGraphs(m);
const input = await photoBatch(m, 2);
const rt = await getRuntime("native");
for (const g of graphs.filter((g) => ["gaia_a", "si_a", "si"].includes(g.label))) {
  const a = await runGraph(rt, g.bytes, input, "disabled");
  for (let k = 0; k < 3; k++) {
    const b = await runGraph(rt, g.bytes, input, "disabled");
    const p = await runGraph(rt, g.bytes, input, "product");
    const f = (d: ReturnType<typeof difference>) => d.filter((r) => r.output === "score").map((r) => r.relative.toExponential(2)).join();
    console.log(g.label, "disabled vs disabled", f(difference(b, a)), "product vs disabled", f(difference(p, a)));
  }
}
