/**
 * `deno run -A bench/si_floor.ts [batch]`: S&I on the bundled WRN-40-2 against its convolution
 * floor (41 forward passes per image), native, forward and S&I graphs alternated in one process.
 * Prints ms per image (wall and CPU) and both ratios per repetition.
 * @module
 */
import process from "node:process";
import { SiEngine } from "../src/engine/engine.ts";
import { loadedBackends } from "../src/runtime/runtime.ts";
import { optimizationOptions } from "../src/runtime/optimization.ts";
const n = Number(Deno.args[0] ?? 32);
const bytes = Deno.readFileSync("models/fmnist-wrn40/model.onnx");
const engine = await SiEngine.create({
  modelBytes: bytes,
  backend: "native",
  inputDims: [3, 32, 32],
  splitPolicy: { kind: "normalization+pool" },
});
const s = { method: "si", alpha: 0.001, iterations: 2, loss: "ce", integrate: "add" } as const;
const lb = loadedBackends.get(engine.runtime as never)!;
const opts = {
  executionProviders: ["cpu"],
  ...optimizationOptions("product"),
  enableMemPattern: false,
  intraOpNumThreads: 2,
  interOpNumThreads: 1,
};
const si = await lb.ort.InferenceSession.create(engine.compile(s), opts);
const fwd = await lb.ort.InferenceSession.create(bytes, opts);
const data = new Float32Array(n * 3072);
for (let i = 0; i < data.length; i++) data[i] = Math.sin(i) * 0.5;
const x = new lb.ort.Tensor("float32", data, [n, 3, 32, 32]);
const a = new lb.ort.Tensor("float32", new Float32Array([0.001]), []);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
};
const time = async (f: () => Promise<unknown>) => {
  const c = cpu(), t = performance.now();
  await f();
  return [performance.now() - t, cpu() - c];
};
await fwd.run({ input: x });
await si.run({ input: x, si_alpha: a });
const rows: number[][] = [];
for (let r = 0; r < 3; r++) {
  const [fw, fc] = await time(() => fwd.run({ input: x }));
  const [sw, sc] = await time(() => si.run({ input: x, si_alpha: a }));
  rows.push([fw / n, fc / n, sw / n, sc / n]);
  console.log(
    `rep ${r}: forward ${(fw / n).toFixed(2)} ms/img (cpu ${(fc / n).toFixed(2)}), si ${
      (sw / n).toFixed(1)
    } ms/img (cpu ${(sc / n).toFixed(1)}), ratio wall ${(sw / (41 * fw)).toFixed(2)} cpu ${
      (sc / (41 * fc)).toFixed(2)
    }`,
  );
}
console.log(`load ${Deno.loadavg()[0]}`);
Deno.exit(0);
