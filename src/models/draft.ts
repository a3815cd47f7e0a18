/**
 * Drafting a manifest for a user's ONNX classifier (`deno task import`): what can be read from
 * the graph (input/output names and shapes, normalization nodes) plus the user's choices.
 * @module
 */
import { readModel } from "../onnx/proto.ts";
import { valueDims } from "../onnx/input_dims.ts";
import { DEFAULT_SETTINGS, type SplitPolicyName } from "../contract/scoring.ts";
import { isModelId } from "../contract/model_id.ts";

/** The user's choices; anything omitted gets a documented default. */
export interface DraftOptions {
  readonly id: string;
  readonly sha256: string;
  readonly source: string;
  readonly labels?: readonly string[];
  /** Colour of the training data; default gray for 1-channel inputs, else rgb. */
  readonly color?: "gray" | "rgb";
  /** Pixels of padding on every side (the resize target shrinks by twice this); default 0. */
  readonly pad?: number;
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
  readonly resizeMethod?: "area" | "bilinear" | "bicubic";
  readonly splits?: Exclude<SplitPolicyName, "tensors">;
  /** A named bundle of defaults for a family of models (see {@link PRESETS}); flags override. */
  readonly preset?: PresetName;
  readonly created: string;
}

/** Names of the import presets. */
export const PRESET_NAMES = ["imagenet"] as const;
/** An import preset name. */
export type PresetName = typeof PRESET_NAMES[number];

/** ImageNet statistics, as torchvision's `Normalize` in every ImageNet recipe. */
const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];
/** torchvision's evaluation crop ratio: Resize(256) then CenterCrop(224). */
const CROP_RATIO = 224 / 256;
/** Splits of the A variant: the last ten normalization outputs (the authors' BiT setting). */
const A_SPLIT_COUNT = 10;

/**
 * `imagenet`: torchvision's ImageNet evaluation transform for a model with an H×W input —
 * resize the shorter side to round(max(H, W) · 256/224) with Pillow's antialiased bilinear filter
 * in 8-bit arithmetic (what `Resize` does on the PIL images `ImageFolder` loads), center crop
 * H×W, ImageNet mean/std — and S&I-A over the last 10 normalization outputs.
 */
function imagenetPreset(o: DraftOptions, h: number, w: number): Record<string, unknown> {
  const method = o.resizeMethod ?? "bilinear";
  if (method === "area") {
    throw new Error(`Cannot import "${o.source}": the imagenet preset resizes bilinear or bicubic`);
  }
  if (o.pad) throw new Error(`Cannot import "${o.source}": the imagenet preset does not pad`);
  return {
    preprocess: {
      color: "rgb",
      background: 0,
      resize: { shorter: Math.round(Math.max(h, w) / CROP_RATIO), method, arithmetic: "pillow" },
      crop: { width: w, height: h },
      scale: 1 / 255,
      mean: o.mean ?? IMAGENET_MEAN,
      std: o.std ?? IMAGENET_STD,
      replicate: 1,
    },
    splits: o.splits && o.splits !== "last-normalization"
      ? { policy: o.splits }
      : { policy: "last-normalization", count: A_SPLIT_COUNT },
    defaults: { ...DEFAULT_SETTINGS, method: "si_a" },
  };
}

/** What the graph says about its interface. */
export interface GraphFacts {
  readonly input: string;
  readonly output: string;
  /** [C, H, W] of one image. */
  readonly dims: readonly [number, number, number];
  /** Number of classes, when the output's last dimension is fixed. */
  readonly classes?: number;
  readonly normalizationNodes: number;
  readonly globalPool: boolean;
}

/** Reads input/output names and shapes from a serialized ONNX model. */
export function graphFacts(bytes: Uint8Array, source: string): GraphFacts {
  const graph = readModel(bytes, source).graph!;
  const inits = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !inits.has(i.name ?? ""));
  if (inputs.length !== 1) {
    throw new Error(`Cannot import "${source}": expected 1 graph input, found ${inputs.length}`);
  }
  const inDims = valueDims(inputs[0]);
  const [c, h, w] = inDims.slice(1);
  if (inDims.length !== 4 || c === undefined || h === undefined || w === undefined) {
    throw new Error(
      `Cannot import "${source}": input "${inputs[0].name}" must be NCHW with fixed C, H, W`,
    );
  }
  const output = graph.output?.[0];
  if (!output?.name) throw new Error(`Cannot import "${source}": the graph has no output`);
  const k = valueDims(output).at(-1);
  const ops = (graph.node ?? []).map((n) => n.opType ?? "");
  return {
    input: inputs[0].name!,
    output: output.name,
    dims: [c, h, w],
    classes: k,
    normalizationNodes: ops.filter((o) => o === "BatchNormalization").length,
    globalPool: ops.includes("GlobalAveragePool"),
  };
}

/** A draft manifest (plain JSON, to be validated with parseManifest before use). */
export function draftManifest(facts: GraphFacts, o: DraftOptions): Record<string, unknown> {
  if (!isModelId(o.id)) throw new Error(`Invalid model id "${o.id}"`);
  const [c, h, w] = facts.dims;
  const labels = o.labels ?? Array.from({ length: facts.classes ?? 0 }, (_, i) => `class_${i}`);
  if (labels.length === 0) {
    throw new Error(
      `Cannot import "${o.source}": the number of classes is not fixed; pass --labels`,
    );
  }
  if (facts.classes !== undefined && labels.length !== facts.classes) {
    throw new Error(
      `Cannot import "${o.source}": ${labels.length} labels given but the model has ${facts.classes} classes`,
    );
  }
  const color = o.color ?? (c === 1 ? "gray" : "rgb");
  const base = color === "gray" ? 1 : 3;
  if (c % base !== 0) {
    throw new Error(`Cannot import "${o.source}": ${color} input cannot fill ${c} channels`);
  }
  if (o.preset === "imagenet" && (c !== 3 || color !== "rgb")) {
    throw new Error(`Cannot import "${o.source}": the imagenet preset needs a 3-channel RGB input`);
  }
  const preset = o.preset === "imagenet" ? imagenetPreset(o, h, w) : {};
  const pad = o.pad ?? 0;
  if (h - 2 * pad < 1 || w - 2 * pad < 1) {
    throw new Error(`Cannot import "${o.source}": padding ${pad} leaves no image in ${h}x${w}`);
  }
  return {
    name: o.id,
    description: `Imported from ${o.source}`,
    labels,
    model: { file: "model.onnx", sha256: o.sha256, input: facts.input, output: facts.output },
    input: { layout: "NCHW", channels: c, height: h, width: w },
    preprocess: {
      color,
      background: 0,
      resize: { width: w - 2 * pad, height: h - 2 * pad, method: o.resizeMethod ?? "area" },
      pad: { top: pad, right: pad, bottom: pad, left: pad, value: 0 },
      scale: 1 / 255,
      mean: o.mean ?? [0],
      std: o.std ?? [1],
      replicate: c / base,
    },
    splits: {
      policy: o.splits ?? (facts.globalPool ? "normalization+pool" : "normalization"),
      ...(o.splits === "last-normalization" && { count: A_SPLIT_COUNT }),
    },
    defaults: { ...DEFAULT_SETTINGS },
    ...preset,
    calibration: [],
    provenance: {
      imported_from: o.source,
      ...(o.preset && { preset: o.preset }),
      imported: o.created,
      note: "Drafted by `deno task import`: check that preprocess repeats the training pipeline.",
    },
  };
}
