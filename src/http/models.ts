/**
 * GET /v1/models and GET /v1/models/{model}: what is served, with manifest, calibration and backend.
 * @module
 */
import type { Calibration, LoadedModel } from "../models/types.ts";
import { METHODS } from "../contract/scoring.ts";
import { type AppContext, findModel } from "./context.ts";
import type { RouteContext } from "./router.ts";

/** A model as `GET /v1/models` lists it. */
export function modelSummary(model: LoadedModel) {
  return {
    id: model.id,
    backend: model.backend,
    input: model.inputDims,
    classes: model.labels.length,
    defaults: model.defaults,
    calibrated: model.calibrationFor(model.defaults) !== undefined,
  };
}

/** Calibrations available for each method under the model's default settings. */
function calibrations(model: LoadedModel): Calibration[] {
  const found: Calibration[] = [];
  for (const method of METHODS) {
    const cal = model.calibrationFor({ ...model.defaults, method });
    if (cal) found.push(cal);
  }
  return found;
}

/** GET /v1/models */
export function listModelsRoute(ctx: AppContext): Response {
  return Response.json({
    ready: ctx.registry.ready,
    models: ctx.registry.list().map(modelSummary),
  });
}

/** GET /v1/models/{model} */
export function getModelRoute(ctx: AppContext, rc: RouteContext): Response {
  const model = findModel(ctx, rc.params.model);
  return Response.json({
    ...modelSummary(model),
    labels: model.labels,
    manifest: model.manifest,
    calibration: model.calibrationFor(model.defaults) ?? null,
    calibrations: calibrations(model),
  });
}
