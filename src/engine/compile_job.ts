/**
 * One compile of a scoring graph as plain data (model bytes, shapes, settings, splits), so that it
 * can run in a compile worker (compile_worker.ts) with the same code as on the engine's thread.
 * @module
 */
import { type ModelProto, readModel, writeModel } from "../onnx/proto.ts";
import type { ShapeMap } from "../onnx/shapes.ts";
import { writeCompiledFile } from "../runtime/compile_cache.ts";
import type { ScoreSettings } from "../contract/scoring.ts";
import { compileScoringModel } from "../si/compile.ts";

/** The options of {@link compileScoringModel} that are data (`onFallback` is passed apart). */
export interface CompileJobOptions {
  readonly stack?: boolean;
  readonly dynamicBatch?: boolean;
  readonly splitChunk?: number;
  readonly pooled?: string;
}

/** Everything one compile needs. */
export interface CompileJob {
  /** The serialized source model. */
  readonly modelBytes: Uint8Array;
  /** Name of the model in error messages. */
  readonly source?: string;
  readonly shapes: ShapeMap;
  /** Graph settings (see `graphSettings`). */
  readonly settings: ScoreSettings;
  readonly splits: readonly string[];
  readonly options: CompileJobOptions;
  /**
   * Path of a compile-cache file entry (`<cacheDir>/.cache/<key>.onnx`) to write the graph to
   * with its external data; the serialized graph is returned instead when omitted.
   */
  readonly file?: string;
}

/** What a compile gives: the written graph file's path (`job.file`), or the serialized graph. */
export type CompiledOutput = string | Uint8Array;

/** Compile worker → caller. */
export type CompileReply =
  | { readonly type: "fallback"; readonly reason: string }
  | { readonly type: "done"; readonly output: CompiledOutput }
  | {
    readonly type: "failed";
    readonly error: { readonly name: string; readonly message: string };
  };

/** Runs a compile job on this thread, reading the model from the job's bytes. */
export function runCompileJob(
  job: CompileJob,
  onFallback?: (reason: string) => void,
): Promise<CompiledOutput> {
  const model = readModel(job.modelBytes, job.source);
  const compiled = compileScoringModel(
    model,
    job.shapes,
    job.settings,
    job.splits,
    { ...job.options, onFallback },
  );
  return finishCompile(compiled, job.file);
}

/**
 * The output of a compiled model: written as the compile-cache entry at `file` (the path is
 * returned) when given and writable, otherwise serialized.
 */
export async function finishCompile(compiled: ModelProto, file?: string): Promise<CompiledOutput> {
  if (file === undefined) return writeModel(compiled);
  const written = await writeCompiledFile(file, compiled);
  return typeof written === "string" ? written : writeModel(written);
}
