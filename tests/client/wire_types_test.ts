/**
 * The client's wire types (client/types.ts, self-contained so it can be copied alone) against the
 * server's: a drift fails type-checking of this file, or the assertions on the value lists.
 */
import assert from "node:assert/strict";
import * as client from "../../client/types.ts";
import { type Method, METHODS, type ScoreSettings } from "../../src/contract/scoring.ts";
import { ERROR_CODES, type ErrorCode } from "../../src/errors.ts";
import { isValidSetting, LIMITS } from "../../src/contract/settings.ts";
import type { ErrorLine, ScoreLine } from "../../src/http/lines.ts";
import type { modelSummary } from "../../src/http/models.ts";
import type { Calibration } from "../../src/models/types.ts";

/** True exactly when A and B are the same type (modifiers included). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
/** True when every A is a B. */
type Assignable<A, B> = [A] extends [B] ? true : false;

// Each entry only type-checks while the two sides agree.
const agreements: {
  method: Equal<Method, client.Method>;
  errorCode: Equal<ErrorCode, client.KnownErrorCode>;
  scoreLine: Equal<ScoreLine, client.ScoreLine>;
  errorLine: Assignable<ErrorLine, client.ErrorLine>;
  settings: Equal<ScoreSettings, client.Settings>;
  calibration: Equal<Calibration, client.CalibrationInfo>;
  modelSummary: Assignable<ReturnType<typeof modelSummary>, client.ModelSummary>;
} = {
  method: true,
  errorCode: true,
  scoreLine: true,
  errorLine: true,
  settings: true,
  calibration: true,
  modelSummary: true,
};

Deno.test("client and server agree on methods, error codes and line types", () => {
  assert.deepEqual(client.METHODS, METHODS);
  assert.deepEqual(client.ERROR_CODES, ERROR_CODES);
  assert.ok(Object.values(agreements).every((x) => x));
});

Deno.test("client and server agree on the bounds of alpha and iterations", () => {
  assert.deepEqual(client.SETTING_LIMITS, LIMITS);
});

Deno.test("alphaProblem() refuses exactly the step sizes the server's settings schema refuses", () => {
  for (const text of ["0", "-0.1", "100.5", "abc", "0.001", "100", "1e-3", ""]) {
    const serverAccepts = text === "" || isValidSetting("alpha", Number(text));
    assert.equal(client.alphaProblem(text) === undefined, serverAccepts, text);
  }
  assert.equal(
    client.alphaProblem("0"),
    'Invalid parameter "alpha": expected a number in (0, 100], got "0"',
  );
});
