import { DISABLED_OPTIMIZERS } from "../src/runtime/optimization.ts";
import { getRuntime } from "../src/runtime/runtime.ts";
import {
  bundledModel, difference, engineGraphs, photoBatch, runGraph,
} from "../tests/runtime/optimizer_guard.ts";
const dir = Deno.args[0];
const m = await bundledModel(dir);
const { graphs } = await engineGraphs(m);
const input = await photoBatch(m, 2);
const which = (Deno.args[1] ?? "si_a").split(",");
const backends = (Deno.args[2] ?? "wasm").split(",");
const candidates = (Deno.args[3] ?? "").split(",").filter(Boolean);
for (const g of graphs.filter((g) => which.includes(g.label))) {
  for (const be of backends) {
    const rt = await getRuntime(be as "wasm" | "native");
    const dis = await runGraph(rt, g.bytes, input, "disabled");
    const show = (tag: string, o: Record<string, unknown>) => {
      const rows = difference(o as never, dis).filter((r) => ["score", "logits", "energy"].includes(r.output) || r.output.startsWith("score"));
      console.log(`${g.label}/${be} ${tag}: ` + rows.map((r) => `${r.output} ${r.relative.toExponential(2)}`).join(", "));
    };
    show("product", await runGraph(rt, g.bytes, input, "product"));
    for (const c of candidates) {
      (DISABLED_OPTIMIZERS as string[]).push(c);
      show(`-${c}`, await runGraph(rt, g.bytes, input, "product"));
      (DISABLED_OPTIMIZERS as string[]).pop();
    }
  }
}
