/**
 * `deno task bench:models`: generates the 224-pixel benchmark models (torchvision ResNet-50 and
 * MobileNetV2 with random weights; ~100 MB and ~14 MB, and tools/export/make_bit.py's BiT-R101-style
 * net, ~178 MB; git-ignored) and imports each with
 * `deno task import --preset imagenet`, so that the benchmark runs exactly what a user gets:
 * `bench/models/gen/<name>/{model.onnx,manifest.json}`. Needs Debian's python3-torchvision.
 * @module
 */
import { main as importModel } from "../src/cli/import.ts";

const GEN = "bench/models/gen";
const NAMES = ["resnet50", "mobilenet_v2", "bit_r101"];

async function run(): Promise<number> {
  const py = await new Deno.Command("/usr/bin/python3", {
    args: ["tools/export/make_imagenet_models.py", GEN],
    stdout: "inherit",
    stderr: "inherit",
  }).output().catch((e) => {
    console.error(`Cannot run /usr/bin/python3 (apt-get install -y python3-torchvision): ${e}`);
    return { code: 1 };
  });
  if (py.code !== 0) return py.code;
  // The BiT-R101-style net of the start-up benchmark (GroupNorm + weight standardisation).
  const bit = await new Deno.Command("/usr/bin/python3", {
    args: ["tools/export/make_bit.py", GEN],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (bit.code !== 0) return bit.code;
  for (const name of NAMES) {
    const args = [`${GEN}/${name}.onnx`, "--name", name, "--models-dir", GEN, "--force"];
    const code = await importModel([...args, "--preset", "imagenet"]);
    if (code !== 0) return code;
  }
  return 0;
}

if (import.meta.main) Deno.exit(await run());
