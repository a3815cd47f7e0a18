/**
 * The same S&I and baseline scores on every backend (float32 tolerance): wasm, native, and
 * WebGPU on whatever adapter the machine has (Mesa's llvmpipe software adapter in CI).
 */
import assert from "node:assert/strict";
import { SiEngine } from "../../src/engine/engine.ts";
import type { BackendName } from "../../src/contract/backends.ts";
import { METHODS, type ScoreSettings } from "../../src/contract/scoring.ts";
import { tinyInputs, tinyModel } from "./tiny_model.ts";

const N = 3;
const input = { data: tinyInputs(N, 11), dims: [N, 3, 8, 8] as [number, number, number, number] };
const settings: ScoreSettings = {
  method: "si",
  alpha: 0.05,
  iterations: 2,
  loss: "ce",
  integrate: "add",
};

async function scores(backend: BackendName): Promise<Record<string, number[]>> {
  const engine = await SiEngine.create({
    modelBytes: tinyModel(),
    backend,
    inputDims: [3, 8, 8],
    splitPolicy: { kind: "normalization+pool" },
  });
  const out: Record<string, number[]> = {};
  // `fused` is scored around the engine; its inputs are the S&I score and the graph's energy.
  for (const method of METHODS.filter((m) => m !== "fused")) {
    const results = await engine.score(input, { ...settings, method });
    out[method] = results.map((s) => s.score);
    if (method === "si") out["si.energy"] = results.map((s) => s.energy!);
  }
  out.fractions = (await engine.fractions(input, settings)).flat();
  return out;
}

Deno.test("SiEngine gives the same scores on wasm, native and webgpu", async () => {
  const wasm = await scores("wasm");
  for (const backend of ["native", "webgpu"] as const) {
    const other = await scores(backend);
    for (const key of Object.keys(wasm)) {
      wasm[key].forEach((v, i) => {
        const tol = 1e-4 * Math.max(1, Math.abs(v));
        assert.ok(
          Math.abs(v - other[key][i]) <= tol,
          `${backend} ${key}[${i}]: ${other[key][i]} vs ${v}`,
        );
      });
    }
  }
});
