/**
 * Parsing of input specs (pure: no filesystem access).
 * @module
 */

/** A half-open range `[start:end]`; an omitted bound is undefined (Python slice semantics). */
export interface Slice {
  readonly start?: number;
  readonly end?: number;
}

/** What an input spec denotes, before the slice is applied. */
export type SpecKind =
  | { readonly kind: "path"; readonly path: string }
  | { readonly kind: "u8"; readonly path: string; readonly height: number; readonly width: number }
  | { readonly kind: "idx"; readonly path: string; readonly name: string }
  | { readonly kind: "mnist" }
  | {
    readonly kind: "crops";
    readonly path: string;
    readonly count: number;
    readonly height: number;
    readonly width: number;
    readonly seed: number;
  }
  | {
    readonly kind: "noise";
    readonly count: number;
    readonly height: number;
    readonly width: number;
    readonly seed: number;
  };

/** A parsed spec: the source, its optional slice, and the base text used to name images. */
export interface ParsedSpec {
  readonly spec: string;
  readonly base: string;
  readonly source: SpecKind;
  readonly slice?: Slice;
}

/** Where the Debian package dataset-fashion-mnist installs its IDX files. */
export const FMNIST_DIR = "/usr/share/datasets/fashion-mnist";

const FMNIST_FILES: Record<string, string> = {
  test: "t10k-images-idx3-ubyte.gz",
  train: "train-images-idx3-ubyte.gz",
};

/** Parses a spec; throws an Error with the reason (the caller adds the spec to the message). */
export function parseSpec(spec: string): ParsedSpec {
  let base = spec;
  let slice: Slice | undefined;
  const m = /^(.*)\[(\d*):(\d*)\]$/.exec(spec);
  if (m) {
    base = m[1];
    slice = {
      start: m[2] === "" ? undefined : Number(m[2]),
      end: m[3] === "" ? undefined : Number(m[3]),
    };
  }
  return { spec, base, source: parseBase(base), slice };
}

function parseBase(base: string): SpecKind {
  if (base.startsWith("u8:")) {
    const m = /^u8:(.+):(\d+)x(\d+)$/.exec(base);
    if (!m) throw new Error("expected u8:<path>:<H>x<W>");
    const height = Number(m[2]), width = Number(m[3]);
    if (height < 1 || width < 1) throw new Error("image size must be at least 1x1");
    return { kind: "u8", path: m[1], height, width };
  }
  if (base.startsWith("idx:")) {
    const path = base.slice(4);
    if (path === "") throw new Error("expected idx:<path>");
    return { kind: "idx", path, name: base };
  }
  if (base.startsWith("fmnist:")) {
    const file = FMNIST_FILES[base.slice(7)];
    if (!file) throw new Error("expected fmnist:test or fmnist:train");
    return { kind: "idx", path: `${FMNIST_DIR}/${file}`, name: base };
  }
  if (base === "mnist") return { kind: "mnist" };
  if (base.startsWith("noise:")) {
    const m = /^noise:uniform:(\d+):(\d+)x(\d+)(?::(\d+))?$/.exec(base);
    if (!m) throw new Error("expected noise:uniform:<count>:<H>x<W>[:seed]");
    const height = Number(m[2]), width = Number(m[3]);
    if (height < 1 || width < 1) throw new Error("image size must be at least 1x1");
    return { kind: "noise", count: Number(m[1]), height, width, seed: Number(m[4] ?? 0) };
  }
  if (base.startsWith("crops:")) {
    const m = /^crops:(.+):(\d+):(\d+)x(\d+)(?::(\d+))?$/.exec(base);
    if (!m) throw new Error("expected crops:<path>:<count>:<H>x<W>[:seed]");
    const height = Number(m[3]), width = Number(m[4]);
    if (height < 1 || width < 1) throw new Error("image size must be at least 1x1");
    return {
      kind: "crops",
      path: m[1],
      count: Number(m[2]),
      height,
      width,
      seed: Number(m[5] ?? 0),
    };
  }
  return { kind: "path", path: base };
}

/** The indices [from, to) a slice selects from `count` items, clamped like Python's. */
export function sliceRange(count: number, slice?: Slice): [number, number] {
  const from = Math.min(slice?.start ?? 0, count);
  const to = Math.min(slice?.end ?? count, count);
  return [from, Math.max(from, to)];
}
