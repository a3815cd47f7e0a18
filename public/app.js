// @ts-check
/**
 * The playground: pick a model and method, drop images, watch the verdicts stream in.
 * Plain ES modules with JSDoc types, no network access beyond the service itself. The NDJSON
 * reader and the method list come from the client (`client.js`, built by `deno task build:client`).
 * @module
 */
import { alphaProblem, METHODS, readNdjson } from "./client.js";
import { drawChart } from "./chart.js";
import { fillError, fillScore, pendingCard } from "./results.js";

const ACCEPTED = ["image/png", "image/jpeg", "image/gif", "image/tiff"];

/**
 * @typedef {{ method: string, threshold: number, scores: number[] }} Calibration
 * @typedef {{ id: string, defaults?: { method?: string } }} ModelSummary
 * @typedef {ModelSummary & { calibrations?: Calibration[] }} ModelDetail
 * @typedef {import("./results.js").ScoreLine} ScoreLine
 * @typedef {import("./chart.js").Marker} Marker
 */

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @returns {T}
 */
const $ = (id) => /** @type {T} */ (document.getElementById(id));

const ui = {
  error: $("error"),
  form: /** @type {HTMLFormElement} */ ($("controls")),
  model: /** @type {HTMLSelectElement} */ ($("model")),
  method: /** @type {HTMLSelectElement} */ ($("method")),
  alpha: /** @type {HTMLInputElement} */ ($("alpha")),
  iterations: /** @type {HTMLInputElement} */ ($("iterations")),
  token: /** @type {HTMLInputElement} */ ($("token")),
  drop: $("drop"),
  files: /** @type {HTMLInputElement} */ ($("files")),
  rescore: /** @type {HTMLButtonElement} */ ($("rescore")),
  chart: /** @type {SVGSVGElement} */ (/** @type {unknown} */ (document.getElementById("chart"))),
  status: $("status"),
  results: /** @type {HTMLOListElement} */ ($("results")),
};

const state = {
  /** @type {ModelSummary[]} */ models: [],
  /** Details (with calibrations) by model id, fetched when a model is chosen. */
  /** @type {Map<string, ModelDetail>} */ details: new Map(),
  /** @type {File[]} */ files: [],
  /** @type {Marker[]} */ markers: [],
  /** @type {AbortController | undefined} */ running: undefined,
};

/** @param {string} message */
function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = false;
}

function clearError() {
  ui.error.hidden = true;
  ui.error.textContent = "";
}

/** @returns {Record<string, string>} */
function authHeaders() {
  const token = ui.token.value.trim();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/**
 * Turns a failed response into a readable message from `{"error": {"code", "message"}}`.
 * @param {Response} res
 */
async function describeFailure(res) {
  const text = await res.text().catch(() => "");
  try {
    const { error } = JSON.parse(text);
    if (error?.code) {
      const hint = res.status === 401 ? " Enter the API token under Advanced." : "";
      return `${error.message} (${error.code}, HTTP ${res.status}).${hint}`;
    }
  } catch { /* not JSON: fall through */ }
  return `HTTP ${res.status} ${res.statusText}`;
}

/** @param {string} method */
function calibrationFor(method) {
  return state.details.get(ui.model.value)?.calibrations?.find((c) => c.method === method);
}

/** @param {string} path */
async function getJson(path) {
  const res = await fetch(path, { headers: { accept: "application/json", ...authHeaders() } });
  if (!res.ok) throw new Error(await describeFailure(res));
  return await res.json();
}

/** Fetches the chosen model's calibrations (once) and offers its methods. */
async function fillMethods() {
  const id = ui.model.value;
  const summary = state.models.find((m) => m.id === id);
  if (!summary) return;
  ui.method.disabled = true;
  try {
    if (!state.details.has(id)) {
      state.details.set(id, await getJson(`v1/models/${encodeURIComponent(id)}`));
    }
  } catch (e) {
    showError(`Could not load model ${id}: ${e instanceof Error ? e.message : e}`);
  }
  if (ui.model.value !== id) return; // the user picked another model meanwhile
  const calibrated = new Set((state.details.get(id)?.calibrations ?? []).map((c) => c.method));
  const preferred = summary.defaults?.method ?? "si";
  ui.method.replaceChildren(...METHODS.map((m) => {
    const label = calibrated.has(m) ? `${m} (calibrated)` : m;
    return new Option(label, m, false, m === preferred);
  }));
  ui.method.disabled = false;
  redrawChart();
}

function redrawChart() {
  drawChart(ui.chart, calibrationFor(ui.method.value), state.markers);
}

async function loadModels() {
  ui.model.disabled = true;
  try {
    const body = await getJson("v1/models");
    state.models = body.models ?? [];
    state.details.clear();
    if (state.models.length === 0 && body.ready === false) {
      // The service listens before its models are loaded: try again shortly.
      ui.model.replaceChildren(new Option("Models are loading…", ""));
      ui.status.textContent = "The service is still loading its models; retrying every 3 s.";
      setTimeout(loadModels, 3000);
      return;
    }
    if (state.models.length === 0) throw new Error("The service serves no models.");
    ui.status.textContent = "Choose images to score.";
    ui.model.replaceChildren(...state.models.map((m) => new Option(m.id, m.id)));
    ui.model.disabled = false;
    clearError();
    await fillMethods();
  } catch (e) {
    ui.model.replaceChildren(new Option("No models available", ""));
    showError(`Could not load models: ${e instanceof Error ? e.message : e}`);
  }
}

/** @param {File[]} files */
function setFiles(files) {
  const images = files.filter((f) => ACCEPTED.includes(f.type) || f.type === "");
  const skipped = files.length - images.length;
  if (images.length === 0) {
    showError("None of the dropped files is a PNG, JPEG, GIF or TIFF image.");
    return;
  }
  state.files = images;
  ui.rescore.disabled = false;
  score().then(() => {
    if (skipped > 0) showError(`${skipped} file(s) skipped: not a PNG, JPEG, GIF or TIFF image.`);
  });
}

async function score() {
  // The service refuses such an α for the whole request; say so before sending the images.
  const problem = alphaProblem(ui.alpha.value);
  if (problem) {
    showError(problem);
    return;
  }
  state.running?.abort();
  const controller = new AbortController();
  state.running = controller;
  clearError();
  for (const img of ui.results.querySelectorAll("img")) URL.revokeObjectURL(img.src);
  const cards = state.files.map((f, i) => pendingCard(i, f));
  ui.results.replaceChildren(...cards);
  state.markers = [];
  redrawChart();

  const params = new URLSearchParams({ method: ui.method.value });
  if (ui.alpha.value) params.set("alpha", ui.alpha.value);
  if (ui.iterations.value) params.set("iterations", ui.iterations.value);
  const form = new FormData();
  for (const f of state.files) form.append("image", f, f.name);
  const url = `v1/models/${encodeURIComponent(ui.model.value)}/score?${params}`;
  ui.status.textContent = `Scoring ${cards.length} image(s) with ${ui.method.value}…`;
  let done = 0;
  let ood = 0;
  let failed = 0;
  let summary = false;
  try {
    const res = await fetch(url, {
      method: "POST",
      body: form,
      headers: { accept: "application/x-ndjson", ...authHeaders() },
      signal: controller.signal,
    });
    if (!res.ok || !res.body) throw new Error(await describeFailure(res));
    for await (const line of readNdjson(res.body)) {
      if (line.summary) {
        summary = true;
      } else if (typeof line.index === "number" && cards[line.index]) {
        done++;
        if (line.error) {
          failed++;
          fillError(cards[line.index], line.error);
        } else {
          if (line.ood) ood++;
          fillScore(cards[line.index], line);
          state.markers.push({
            index: line.index,
            name: line.name,
            score: line.score,
            ood: line.ood,
          });
          redrawChart();
        }
      } else if (line.error) {
        throw new Error(`${line.error.message} (${line.error.code})`);
      }
    }
    if (!summary) throw new Error("The connection closed before every image was scored.");
    ui.status.textContent = `Done: ${
      done - failed
    } scored, ${ood} flagged OOD, ${failed} could not be read.`;
  } catch (e) {
    if (controller.signal.aborted) return;
    const message = e instanceof Error ? e.message : String(e);
    showError(`Scoring failed: ${message}`);
    // The alert sits above the chart: bring it into view when the user is down at the results.
    ui.error.scrollIntoView({ block: "nearest" });
    ui.status.textContent = `Stopped after ${done} of ${cards.length} image(s): ${message}`;
    for (const card of cards) {
      if (card.classList.contains("pending")) {
        fillError(card, { code: "not_scored", message: "Not scored" });
      }
    }
  } finally {
    if (state.running === controller) state.running = undefined;
  }
}

ui.files.addEventListener("change", () => {
  setFiles([...(ui.files.files ?? [])]);
  ui.files.value = ""; // lets the same file be chosen again
});
for (const type of ["dragenter", "dragover"]) {
  ui.drop.addEventListener(type, (e) => {
    e.preventDefault();
    ui.drop.classList.add("over");
  });
}
ui.drop.addEventListener("dragleave", () => ui.drop.classList.remove("over"));
ui.drop.addEventListener("drop", (e) => {
  e.preventDefault();
  ui.drop.classList.remove("over");
  setFiles([...(e.dataTransfer?.files ?? [])]);
});
ui.model.addEventListener("change", fillMethods);
ui.method.addEventListener("change", redrawChart);
ui.token.addEventListener("change", loadModels);
ui.form.addEventListener("submit", (e) => {
  e.preventDefault();
  if (state.files.length > 0) score();
});

drawChart(ui.chart, undefined, []);
loadModels();
