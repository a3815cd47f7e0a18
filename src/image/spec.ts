/**
 * The pre-processing and input sections of a model manifest: how pixels become the model's
 * input tensor. The image layer owns them because it is the one that executes them; the
 * manifest schema (`src/models/manifest.ts`) embeds them.
 * @module
 */
import { z } from "zod";

const numbers = (what = "expected array of numbers") =>
  z.array(z.number({ error: what }), { error: what }).min(1, {
    error: "expected at least 1 number",
  });

/** A positive integer, with one message for every way of failing. */
export const positiveInt = z.number({ error: "expected a positive integer" }).int({
  error: "expected a positive integer",
}).positive({ error: "expected a positive integer" });

const pixelValue = z.number({ error: "expected a number in 0..255" }).min(0).max(255);

/** How pixels become the model's input tensor. */
export const preprocessSchema = z.strictObject({
  /** "gray": ITU-R BT.601 luma; "rgb": the three colour channels. */
  color: z.enum(["gray", "rgb"]),
  /** Transparent pixels are composited over this gray level (0 = black). */
  background: pixelValue.default(0),
  /**
   * Either a fixed `width` × `height` or `shorter`: the shorter side to that many pixels, the
   * longer one in proportion (truncated, as torchvision's `Resize(int)`); the latter needs a crop.
   */
  resize: z.strictObject({
    width: positiveInt.optional(),
    height: positiveInt.optional(),
    shorter: positiveInt.optional(),
    /**
     * "area": exact area averaging when shrinking; "bilinear" / "bicubic": Pillow's anti-aliased
     * triangle / cubic (a = −0.5) filter, widened by the scale factor when shrinking.
     */
    method: z.enum(["area", "bilinear", "bicubic"]).default("area"),
    /** "float" (default) or "pillow": Pillow's 8-bit fixed-point passes (PIL-image pipelines). */
    arithmetic: z.enum(["float", "pillow"]).optional(),
  }).superRefine((r, ctx) => {
    const fixed = r.width !== undefined || r.height !== undefined;
    if (fixed === (r.shorter !== undefined) || (fixed && (!r.width || !r.height))) {
      ctx.addIssue({ code: "custom", message: "expected width and height, or shorter" });
    }
    if (r.arithmetic === "pillow" && r.method === "area") {
      ctx.addIssue({
        code: "custom",
        path: ["arithmetic"],
        message: 'pillow arithmetic needs method "bilinear" or "bicubic"',
      });
    }
  }),
  /** Center crop after the resize (torchvision's `CenterCrop`: offset round-half-even). */
  crop: z.strictObject({ width: positiveInt, height: positiveInt }).optional(),
  pad: z.strictObject({
    top: z.number().int().min(0).default(0),
    right: z.number().int().min(0).default(0),
    bottom: z.number().int().min(0).default(0),
    left: z.number().int().min(0).default(0),
    /** Padding value in pixel units (0..255), before scaling. */
    value: pixelValue.default(0),
  }).default({ top: 0, right: 0, bottom: 0, left: 0, value: 0 }),
  /** Multiplier from pixel units; a reciprocal of an integer n divides by n exactly (1/255). */
  scale: z.number().positive().default(1 / 255),
  /** Per-channel mean and std after scaling; one value applies to every channel. */
  mean: numbers(),
  std: numbers().refine((a) => a.every((x) => x > 0), { error: "expected positive numbers" }),
  /** Copies of the gray plane (e.g. 3 for a gray dataset fed to an RGB backbone). */
  replicate: positiveInt.default(1),
});

/** The model input's layout and size. */
export const inputSchema = z.strictObject({
  layout: z.literal("NCHW"),
  channels: positiveInt,
  height: positiveInt,
  width: positiveInt,
});

/** The manifest's pre-processing section. */
export type PreprocessSpec = z.infer<typeof preprocessSchema>;
/** The manifest's input section. */
export type InputSpec = z.infer<typeof inputSchema>;
