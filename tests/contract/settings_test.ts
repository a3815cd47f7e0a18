import assert from "node:assert/strict";
import { DEFAULT_SETTINGS, METHODS, type ScoreSettings } from "../../src/contract/scoring.ts";
import {
  canonicalSettings,
  METHOD_SETTINGS,
  relevantSettings,
  SettingsError,
  settingsFromText,
  settingsKey,
  validateSettings,
} from "../../src/contract/settings.ts";
import { ManifestError, parseManifest } from "../../src/models/manifest.ts";
import { parseSettings } from "../../src/http/params.ts";
import { settingsFromFlags, UsageError } from "../../src/cli/args.ts";
import { ApiError } from "../../src/errors.ts";

const SI = DEFAULT_SETTINGS;
const bundled = JSON.parse(await Deno.readTextFile("models/fmnist-wrn40/manifest.json"));

Deno.test("every method declares which settings matter to it", () => {
  assert.deepEqual(Object.keys(METHOD_SETTINGS).sort(), [...METHODS].sort());
});

Deno.test("settingsKey() ignores settings a method does not use and keeps those it does", () => {
  const msp: ScoreSettings = { ...SI, method: "msp" };
  assert.equal(settingsKey(msp), settingsKey({ ...msp, alpha: 0.5, iterations: 7, loss: "max" }));
  assert.notEqual(settingsKey(SI), settingsKey({ ...SI, alpha: 0.5 }));
  assert.notEqual(settingsKey(SI), settingsKey({ ...SI, integrate: "multiply" }));
  const gaia: ScoreSettings = { ...SI, method: "gaia_z" };
  assert.equal(settingsKey(gaia), settingsKey({ ...gaia, alpha: 0.3, iterations: 5 }));
  assert.notEqual(settingsKey(gaia), settingsKey(msp));
});

Deno.test("canonicalSettings() runs GAIA-Z with T = 1 and marks ignored numbers with 0", () => {
  assert.deepEqual(canonicalSettings({ ...SI, method: "gaia_z", iterations: 4 }), {
    method: "gaia_z",
    alpha: 0,
    iterations: 1,
    loss: "ce",
    integrate: "add",
  });
  assert.deepEqual(canonicalSettings({ ...SI, method: "energy", alpha: 2 }), {
    method: "energy",
    alpha: 0,
    iterations: 0,
    loss: "ce",
    integrate: "add",
  });
  assert.deepEqual(relevantSettings("si"), ["alpha", "iterations", "loss", "integrate"]);
});

const BAD: ReadonlyArray<[keyof ScoreSettings, string, unknown]> = [
  ["alpha", "0", 0],
  ["alpha", "101", 101],
  ["iterations", "0", 0],
  ["iterations", "11", 11],
  ["iterations", "1.5", 1.5],
  ["loss", "l2", "l2"],
  ["integrate", "max", "max"],
  ["method", "odin", "odin"],
];

Deno.test("query, command line, direct calls and manifests reject the same out-of-range settings", () => {
  for (const [name, text, value] of BAD) {
    assert.throws(() => validateSettings({ ...SI, [name]: value }), SettingsError, name);
    assert.throws(() => settingsFromText({ [name]: text }, SI), SettingsError, name);
    assert.throws(
      () => parseSettings(new URLSearchParams({ [name]: text }), SI),
      (e: unknown) => e instanceof ApiError && e.message.startsWith(`Invalid parameter "${name}"`),
    );
    assert.throws(
      () => settingsFromFlags({ [name]: text }, SI),
      (e: unknown) => e instanceof UsageError && e.message.startsWith(`--${name}: expected`),
    );
    assert.throws(
      () => parseManifest({ ...bundled, defaults: { ...bundled.defaults, [name]: value } }, "m"),
      (e: unknown) => e instanceof ManifestError && e.problems[0].startsWith(`defaults.${name}`),
      `${name}=${text} in a manifest`,
    );
  }
});

Deno.test("a manifest with iterations: 20 fails validation, not warm-up", () => {
  assert.throws(
    () => parseManifest({ ...bundled, defaults: { ...bundled.defaults, iterations: 20 } }, "m"),
    /defaults\.iterations: an integer from 1 to 10/,
  );
});

Deno.test("settingsFromText() parses numbers strictly and keeps the base for absent settings", () => {
  assert.deepEqual(settingsFromText({ alpha: "1e-3", iterations: "3" }, SI), {
    ...SI,
    alpha: 0.001,
    iterations: 3,
  });
  assert.throws(() => settingsFromText({ alpha: " " }, SI), /alpha must be a number in \(0, 100\]/);
  assert.throws(() => settingsFromText({ iterations: "2x" }, SI), /got "2x"/);
  for (const text of [" 2", "0x2", "Infinity", "2 "]) {
    assert.throws(() => settingsFromText({ iterations: text }, SI), SettingsError, text);
  }
});
