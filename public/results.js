// @ts-check
/**
 * Result cards: one per uploaded image, created as "scoring…" and filled in when its NDJSON line
 * arrives. Every shown number also sits verbatim in a `data-value` attribute, so tests (and
 * curious users) can compare exactly with the API's answer while the text stays readable.
 * @module
 */

/**
 * @typedef {{ index: number, name: string, score: number, ood: boolean | null,
 *   threshold: number | null, p_value: number | null, class: number, label: string | null,
 *   confidence: number, method: string, layers?: number[],
 *   components?: { method: string, score: number, p_value: number }[] }} ScoreLine
 * @typedef {{ index: number, name: string, error: { code: string, message: string } }} ErrorLine
 */

/**
 * Readable rendering of a score: 4 significant digits, exponent for very large or small values.
 * @param {number | null} v
 */
export function formatScore(v) {
  if (v === null || v === undefined) return "—";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

/**
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 */
function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Creates the pending card of one image.
 * @param {number} index
 * @param {File} file
 * @returns {HTMLLIElement}
 */
export function pendingCard(index, file) {
  const li = /** @type {HTMLLIElement} */ (h("li", "card pending"));
  li.dataset.index = String(index);
  li.setAttribute("aria-busy", "true");
  const img = /** @type {HTMLImageElement} */ (h("img", "thumb"));
  // A file the browser cannot show gets a neutral box instead of a broken-image icon.
  img.addEventListener("error", () => img.classList.add("unreadable"), { once: true });
  img.src = URL.createObjectURL(file);
  img.alt = file.name;
  img.width = 64;
  img.height = 64;
  const title = h("h3", "card-title");
  title.append(h("span", "num", `#${index + 1}`), " ", h("span", "name", file.name));
  const body = h("div", "card-body");
  body.append(title, h("p", "verdict", "Scoring…"));
  li.append(img, body);
  return li;
}

/**
 * A term/definition pair whose definition carries the raw value.
 * @param {string} field
 * @param {string} term
 * @param {string} text
 * @param {unknown} raw
 */
function pair(field, term, text, raw) {
  const wrap = h("div", "pair");
  const dd = h("dd", undefined, text);
  dd.dataset.field = field;
  dd.dataset.value = raw === null || raw === undefined ? "" : String(raw);
  wrap.append(h("dt", undefined, term), dd);
  return wrap;
}

/**
 * A small bar chart of the per-layer values (mean squared channel fraction per split layer).
 * The S&I score is minus the mean of the squared channel fractions over all split channels, so
 * a long bar (many channels whose integrated gradient stayed non-zero) lowers the score: that
 * layer pushed the image toward OOD. The longest bar is marked.
 * @param {readonly number[]} layers
 */
function layerView(layers) {
  const details = h("details", "layers");
  details.append(h("summary", undefined, `Per-layer view (${layers.length} split layers)`));
  const max = Math.max(...layers.map(Math.abs), Number.MIN_VALUE);
  const top = layers.indexOf(Math.max(...layers));
  const list = h("ol", "layer-bars");
  list.setAttribute("aria-label", "Mean squared channel fraction per split layer");
  layers.forEach((v, i) => {
    const item = h("li", i === top ? "top" : undefined);
    const bar = h("span", "layer-bar");
    bar.style.width = `${(Math.abs(v) / max) * 100}%`;
    item.title = `split layer ${i + 1}: ${v}${i === top ? " (pushed most toward OOD)" : ""}`;
    const value = h("span", "layer-value", formatScore(v));
    value.dataset.value = String(v);
    item.append(h("span", "layer-name", `L${i + 1}`), bar, value);
    list.append(item);
  });
  details.append(
    list,
    h(
      "p",
      "hint",
      "Mean squared share of gradient-carrying channels per split layer. Longer bars lower the " +
        `score (more OOD-like); L${top + 1} pushed this image furthest toward OOD.`,
    ),
  );
  return details;
}

/**
 * The components of a `fused` score: each one's own score and calibration p-value. The fused
 * score is the sum of the logarithms of these p-values, so the smallest p-value is the component
 * that pushed the image furthest toward OOD.
 * @param {{ method: string, score: number, p_value: number }[]} components
 */
function componentView(components) {
  const dl = h("dl", "facts components");
  dl.setAttribute("aria-label", "Fused components");
  for (const c of components) {
    dl.append(
      pair(`${c.method}.score`, `${c.method} score`, formatScore(c.score), c.score),
      pair(`${c.method}.p_value`, `${c.method} p-value`, c.p_value.toFixed(3), c.p_value),
    );
  }
  return dl;
}

/**
 * Fills a card with a scored line.
 * @param {HTMLLIElement} li
 * @param {ScoreLine} line
 */
export function fillScore(li, line) {
  li.className = `card ${
    line.ood === true ? "is-ood" : line.ood === false ? "is-id" : "no-verdict"
  }`;
  li.removeAttribute("aria-busy");
  const body = /** @type {HTMLElement} */ (li.querySelector(".card-body"));
  const verdict = /** @type {HTMLElement} */ (body.querySelector(".verdict"));
  const badgeText = line.ood === true ? "OOD" : line.ood === false ? "ID" : "no calibration";
  const badge = h("span", "badge", badgeText);
  badge.dataset.field = "verdict";
  badge.dataset.value = String(line.ood);
  verdict.replaceChildren(
    badge,
    " ",
    line.ood === true
      ? "not what the model was trained for"
      : line.ood === false
      ? "looks like the training data"
      : "no threshold for this method",
  );
  const dl = h("dl", "facts");
  dl.append(
    pair("score", "Score", formatScore(line.score), line.score),
    pair("threshold", "Threshold", formatScore(line.threshold), line.threshold),
    pair(
      "p_value",
      "p-value",
      line.p_value === null ? "—" : line.p_value.toFixed(3),
      line.p_value,
    ),
    pair("label", "Class", `${line.label ?? "class"} (${line.class})`, line.label),
    pair("confidence", "Confidence", `${(line.confidence * 100).toFixed(1)} %`, line.confidence),
    pair("method", "Method", line.method, line.method),
  );
  body.append(dl);
  if (Array.isArray(line.components)) body.append(componentView(line.components));
  if (Array.isArray(line.layers) && line.layers.length > 0) body.append(layerView(line.layers));
}

/**
 * Marks a card as failed with the API's code and message.
 * @param {HTMLLIElement} li
 * @param {{ code: string, message: string }} error
 */
export function fillError(li, error) {
  li.className = "card is-error";
  li.removeAttribute("aria-busy");
  const verdict = /** @type {HTMLElement} */ (li.querySelector(".verdict"));
  const badge = h("span", "badge", "Error");
  badge.dataset.field = "error";
  badge.dataset.value = error.code;
  verdict.replaceChildren(badge, " ", `${error.message} (${error.code})`);
}
