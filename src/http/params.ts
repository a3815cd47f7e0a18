/**
 * Query parameters of the score route → validated `ScoreSettings`.
 * @module
 */
import { ApiError } from "../errors.ts";
import { METHODS } from "../contract/scoring.ts";
import type { AdvLoss, Integration, Method, ScoreSettings } from "../contract/scoring.ts";

function bad(name: string, expected: string, got: string): ApiError {
  return new ApiError(
    400,
    "bad_parameter",
    `Invalid parameter "${name}": expected ${expected}, got "${got.slice(0, 64)}"`,
  );
}

function oneOf<T extends string>(name: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) {
    throw bad(name, `one of ${allowed.join(", ")}`, raw);
  }
  return raw as T;
}

/**
 * Applies `method`, `alpha`, `iterations`, `loss` and `integrate` from the query over `defaults`.
 * @throws {ApiError} 400 bad_parameter naming the offending parameter.
 */
export function parseSettings(query: URLSearchParams, defaults: ScoreSettings): ScoreSettings {
  let { method, alpha, iterations, loss, integrate } = defaults;
  const m = query.get("method");
  if (m !== null) method = oneOf<Method>("method", m, METHODS);
  const a = query.get("alpha");
  if (a !== null) {
    alpha = Number(a);
    if (a.trim() === "" || !Number.isFinite(alpha) || alpha <= 0 || alpha > 100) {
      throw bad("alpha", "a number in (0, 100]", a);
    }
  }
  const t = query.get("iterations");
  if (t !== null) {
    iterations = Number(t);
    if (!/^\d+$/.test(t) || iterations < 1 || iterations > 10) {
      throw bad("iterations", "an integer from 1 to 10", t);
    }
  }
  const l = query.get("loss");
  if (l !== null) loss = oneOf<AdvLoss>("loss", l, ["ce", "max"]);
  const i = query.get("integrate");
  if (i !== null) integrate = oneOf<Integration>("integrate", i, ["add", "multiply"]);
  return { method, alpha, iterations, loss, integrate };
}
