/**
 * On-disk score cache, so that re-running a table after adding a method (or an OOD set) does
 * not recompute the others. Keyed by (model, method + the settings it uses, image name +
 * content hash). One append-only NDJSON file per (model, settings): crash-safe enough, since a
 * half-written last line is skipped on load.
 * @module
 */
import type { DecodedImage } from "../image/types.ts";
import type { LoadedModel } from "../models/types.ts";
import type { ScoreSettings } from "../contract/scoring.ts";
import { relevantSettings } from "../contract/settings.ts";
import { sha256Hex } from "../hash.ts";

/** What is cached per image. */
export interface CachedScore {
  readonly score: number;
  readonly class: number;
  readonly confidence: number;
}

/**
 * The settings a method's scores depend on (`relevantSettings`, the one contract), as a file
 * name. Baselines and GAIA ignore α/T/loss/integration, so their cache survives an ablation.
 */
export function settingsKey(s: ScoreSettings): string {
  if (relevantSettings(s.method).length === 0) return s.method;
  return `${s.method}_a${s.alpha}_T${s.iterations}_${s.loss}_${s.integrate}`;
}

/**
 * Identifies what determines a model's scores: the ONNX file's sha256 (from the verified
 * manifest), input, pre-processing, split policy and backend (backends differ in the last bits).
 */
export function modelKey(model: LoadedModel): Promise<string> {
  const m = model.manifest as unknown as Record<string, unknown> & {
    model?: { sha256?: string };
  };
  return sha256Hex(JSON.stringify({
    id: m.model?.sha256 ? undefined : model.id,
    sha256: m.model?.sha256,
    input: m.input,
    preprocess: m.preprocess,
    splits: m.splits,
    backend: model.backend,
  }));
}

/** Identifies an image by name and decoded content (so a changed file is rescored). */
export async function imageKey(name: string, image: DecodedImage): Promise<string> {
  const head = new TextEncoder().encode(`${image.width}x${image.height}:`);
  const buf = new Uint8Array(head.length + image.data.length);
  buf.set(head);
  buf.set(image.data, head.length);
  return `${name}|${(await sha256Hex(buf)).slice(0, 32)}`;
}

/** A score cache for one model under a directory. */
export class ScoreCache {
  readonly dir: string;
  readonly #tables = new Map<string, Map<string, CachedScore>>();

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Opens (creating) the cache of `model` under `root`, e.g. `.cache/eval`. */
  static async open(root: string, model: LoadedModel): Promise<ScoreCache> {
    const dir = `${root}/${(await modelKey(model)).slice(0, 24)}`;
    await Deno.mkdir(dir, { recursive: true });
    return new ScoreCache(dir);
  }

  #file(key: string): string {
    return `${this.dir}/${key.replace(/[^A-Za-z0-9._-]/g, "_")}.ndjson`;
  }

  async #table(settings: ScoreSettings): Promise<Map<string, CachedScore>> {
    const key = settingsKey(settings);
    let table = this.#tables.get(key);
    if (table) return table;
    table = new Map();
    let text = "";
    try {
      text = await Deno.readTextFile(this.#file(key));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    for (const line of text.split("\n")) {
      if (!line) continue;
      try {
        const [k, score, cls, confidence] = JSON.parse(line);
        table.set(k, { score, class: cls, confidence });
      } catch {
        // A torn last line from an interrupted run: that image is simply rescored.
      }
    }
    this.#tables.set(key, table);
    return table;
  }

  /** The cached score of an image under these settings, if any. */
  async get(settings: ScoreSettings, image: string): Promise<CachedScore | undefined> {
    return (await this.#table(settings)).get(image);
  }

  /** Stores scores (appends to disk at once). */
  async put(settings: ScoreSettings, entries: ReadonlyArray<[string, CachedScore]>): Promise<void> {
    if (entries.length === 0) return;
    const table = await this.#table(settings);
    let text = "";
    for (const [k, v] of entries) {
      table.set(k, v);
      text += JSON.stringify([k, v.score, v.class, v.confidence]) + "\n";
    }
    await Deno.writeTextFile(this.#file(settingsKey(settings)), text, { append: true });
  }
}
