/**
 * onnxruntime's own start-up, cached: the graph onnxruntime optimises when it creates a session
 * (level "all" minus the transformers that change results, optimization.ts) is written once to
 * `<dir>/.cache/<key>.opt.onnx` (+ `.data`), and later sessions load that file with graph
 * optimisation and pre-packing off.
 *
 * Measured on the torchvision ResNet-50's `si_a` graph (native, 2 shared cores,
 * docs/performance.md "Start-up"): creating the session from the compiled file took about 1.0 s
 * and left the process at ≈ 520 MB after a run; from the optimised file with optimisation and
 * pre-packing off, about 0.1 s and ≈ 350 MB, with bit-identical outputs. The optimiser's
 * re-laid-out (NCHWc) kernels are then the only copy of the weights, read from the data file,
 * instead of the file's weights plus the optimiser's copies plus the pre-packed ones.
 *
 * The optimised graph depends on the machine (NCHWc block sizes follow the CPU's vector width)
 * and on onnxruntime's version and disabled transformers, so all three are part of the key. The
 * file is written only by the native backend (onnxruntime-web cannot write files). Entries are
 * made atomically: both files are written in a temporary folder under their final names (the
 * graph names its data file), renamed into place, and the sidecar (sizes, graph digest) last.
 * @module
 */
import { join } from "node:path";
import { cpus } from "node:os";
import { createHash } from "node:crypto";
import { sha256Hex } from "../hash.ts";
import { DISABLED_OPTIMIZERS } from "./optimization.ts";
import type { GraphSession, Runtime } from "./types.ts";

/** Bumped when the way entries are written changes. */
const OPTIMIZED_VERSION = "ort-optimized-1";

/** Sizes and digest of an entry, written last. */
interface Sidecar {
  readonly bytes: number;
  readonly sha256: string;
  readonly dataBytes: number;
}

/**
 * What the optimised graph depends on besides the source graph: the runtime, its version, the
 * disabled transformers and the CPU. Append it to the source graph's cache key.
 */
export function optimizedKeyPart(runtime: Runtime): string {
  return `${OPTIMIZED_VERSION};${runtime.backend};${runtime.info.version};threads=${runtime.info.threads};off=${
    DISABLED_OPTIMIZERS.join(",")
  };cpu=${cpuId()}`;
}

let cpu: string | undefined;

/** The CPU's model and feature flags (hashed), or its model name where /proc is not readable. */
function cpuId(): string {
  if (cpu) return cpu;
  let text = "";
  try {
    text = Deno.readTextFileSync("/proc/cpuinfo");
  } catch {
    // not Linux, or no read permission
  }
  const line = (name: string) => text.match(new RegExp(`^${name}\\s*:(.*)$`, "m"))?.[1] ?? "";
  const id = `${line("model name") || (cpus()[0]?.model ?? "")};${
    line("flags")
  };${Deno.build.arch}`;
  cpu = createHash("sha256").update(id).digest("hex").slice(0, 16);
  return cpu;
}

/** Whether the optimised entry `key` has been written (its sidecar, written last, exists). */
export function hasOptimized(key: string, dir: string): boolean {
  try {
    return Deno.statSync(join(dir, ".cache", `${key}.opt.onnx.sha256`)).isFile;
  } catch {
    return false;
  }
}

/**
 * A session for the graph behind `source`: from the optimised entry `key` when it is valid (the
 * source is then never asked for), else created from `source()` with optimisation on, its
 * optimised graph written as the entry, and re-opened from it so that cold and warm processes
 * run the same graph. Only the native backend with a file source writes entries; other cases
 * create the session from the source as before.
 */
export async function openOptimized(
  runtime: Runtime,
  key: string,
  dir: string,
  source: () => Promise<string | Uint8Array>,
): Promise<GraphSession> {
  if (runtime.backend !== "native") return runtime.createSession(await source());
  const path = join(dir, ".cache", `${key}.opt.onnx`);
  if (await entryValid(path)) {
    try {
      return await openEntry(runtime, path);
    } catch (e) {
      console.warn(`Optimized-model cache: cannot open ${path}, rebuilding: ${firstLine(e)}`);
    }
  }
  const model = await source();
  if (typeof model !== "string") return runtime.createSession(model);
  await Deno.mkdir(join(dir, ".cache"), { recursive: true }).catch(() => undefined);
  const tmpDir = await Deno.makeTempDir({ dir: join(dir, ".cache"), prefix: `${key}.tmp-` })
    .catch(() => undefined); // read-only cache: no entry
  if (!tmpDir) return runtime.createSession(model);
  let written = false;
  try {
    const tmp = join(tmpDir, `${key}.opt.onnx`);
    const first = await runtime.createSession(model, { optimizedModelPath: tmp });
    await first.release(); // re-opened from the entry below: a smaller session
    await moveEntry(tmp, path);
    written = true;
  } catch (e) {
    console.warn(`Optimized-model cache: cannot write ${path}: ${firstLine(e)}`);
  } finally {
    await Deno.remove(tmpDir, { recursive: true }).catch(() => undefined);
  }
  return written ? openEntry(runtime, path) : runtime.createSession(model);
}

/**
 * The optimised graph needs no further optimisation; pre-packing would only add a packed copy
 * of weights the data file already holds in the layout the kernels want (measured: no slower).
 */
function openEntry(runtime: Runtime, path: string): Promise<GraphSession> {
  return runtime.createSession(path, { optimization: "disabled", prepacking: false });
}

async function moveEntry(tmp: string, path: string): Promise<void> {
  const graph = await Deno.readFile(tmp);
  const dataBytes = (await Deno.stat(`${tmp}.data`).catch(() => ({ size: 0 }))).size;
  if (dataBytes > 0) await Deno.rename(`${tmp}.data`, `${path}.data`);
  await Deno.rename(tmp, path);
  const side: Sidecar = { bytes: graph.length, sha256: await sha256Hex(graph), dataBytes };
  const sideTmp = `${path}.sha256.tmp-${Deno.pid}`;
  await Deno.writeTextFile(sideTmp, JSON.stringify(side) + "\n");
  await Deno.rename(sideTmp, `${path}.sha256`);
}

/**
 * Whether the entry is complete: the graph file matches its digest and the data file its size.
 * The data file is not hashed (hundreds of MB on every start); it is only ever renamed into
 * place whole, before the sidecar that vouches for it.
 */
async function entryValid(path: string): Promise<boolean> {
  try {
    const side = JSON.parse(await Deno.readTextFile(`${path}.sha256`)) as Sidecar;
    const graph = await Deno.readFile(path);
    if (graph.length !== side.bytes || (await sha256Hex(graph)) !== side.sha256) return false;
    const data = side.dataBytes > 0 ? (await Deno.stat(`${path}.data`)).size : 0;
    return data === side.dataBytes;
  } catch {
    return false; // absent or unreadable: rebuild
  }
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}
