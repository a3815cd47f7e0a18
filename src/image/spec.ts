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
  resize: z.strictObject({
    width: positiveInt,
    height: positiveInt,
    /** "area": exact area averaging when shrinking; "bilinear": anti-aliased triangle filter. */
    method: z.enum(["area", "bilinear"]).default("area"),
  }),
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
