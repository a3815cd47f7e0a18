/**
 * Test helper: a models directory with the tiny residual CNN of tests/si/tiny_model.ts as "tiny".
 * @module
 */
import { join } from "node:path";
import { sha256Hex } from "../../src/hash.ts";
import { tinyModel } from "../si/tiny_model.ts";

/** A models dir holding the tiny residual CNN (input 3×8×8, 5 classes) as model "tiny". */
export async function tinyModelsDir(): Promise<string> {
  const root = await Deno.makeTempDir();
  const dir = join(root, "tiny");
  await Deno.mkdir(dir);
  const bytes = tinyModel();
  await Deno.writeFile(join(dir, "model.onnx"), bytes);
  const manifest = {
    name: "tiny",
    description: "tiny residual CNN for tests",
    labels: ["a", "b", "c", "d", "e"],
    model: { file: "model.onnx", sha256: await sha256Hex(bytes), input: "input", output: "logits" },
    input: { layout: "NCHW", channels: 3, height: 8, width: 8 },
    preprocess: {
      color: "rgb",
      resize: { width: 8, height: 8, method: "area" },
      scale: 1 / 255,
      mean: [0.5, 0.5, 0.5],
      std: [0.25, 0.25, 0.25],
    },
    splits: { policy: "normalization+pool" },
    defaults: { method: "si", alpha: 0.05, iterations: 2, loss: "ce", integrate: "add" },
  };
  await Deno.writeTextFile(join(dir, "manifest.json"), JSON.stringify(manifest));
  return root;
}
