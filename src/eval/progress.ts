/**
 * A progress bar with ETA on stderr.
 * @module
 */

/** Formats seconds as m:ss or h:mm:ss. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(r).padStart(2, "0")}`;
}

/** One line of the bar: `[#####-----] 120/600 20%  ETA 0:35  label` (NaN ETA shows "?"). */
export function progressLine(done: number, total: number, etaS: number, label: string): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const width = 24;
  const full = Math.round(frac * width);
  return `[${"#".repeat(full)}${"-".repeat(width - full)}] ${done}/${total} ${
    Math.floor(frac * 100)
  }%  ETA ${formatDuration(etaS)}  ${label}`;
}

/** A bar that redraws in place on a terminal and prints every 10 % otherwise. */
export class ProgressBar {
  readonly #total: number;
  readonly #write: (s: string) => void;
  readonly #tty: boolean;
  readonly #start = performance.now();
  #done = 0;
  #lastDecile = -1;
  #label = "";
  /** Cache hits, counted apart so that they do not inflate the speed behind the ETA. */
  #skipped = 0;

  constructor(total: number, opts: { write?: (s: string) => void; tty?: boolean } = {}) {
    this.#total = total;
    this.#write = opts.write ?? ((s) => Deno.stderr.writeSync(new TextEncoder().encode(s)));
    this.#tty = opts.tty ?? Deno.stderr.isTerminal();
  }

  /** Sets the label shown after the bar (the current method and set). */
  label(text: string): void {
    this.#label = text;
  }

  /** Advances by `n` items; `cached` items do not count towards the speed estimate. */
  advance(n: number, cached = false): void {
    this.#done += n;
    if (cached) this.#skipped += n;
    const elapsed = (performance.now() - this.#start) / 1000;
    const computed = this.#done - this.#skipped;
    const rest = this.#total - this.#done;
    const eta = computed > 0 ? (elapsed / computed) * rest : NaN;
    const line = progressLine(this.#done, this.#total, eta, this.#label);
    if (this.#tty) this.#write(`\r${line}\x1b[K`);
    else {
      const decile = Math.floor((10 * this.#done) / Math.max(1, this.#total));
      if (decile !== this.#lastDecile) this.#write(line + "\n");
      this.#lastDecile = decile;
    }
  }

  /** Ends the bar's line on a terminal. */
  finish(): void {
    if (this.#tty) this.#write("\n");
  }
}
