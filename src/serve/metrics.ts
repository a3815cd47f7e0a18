/**
 * A tiny Prometheus registry (counters, gauges, histograms with labels) rendering the text
 * exposition format, plus the service's own metric set.
 * @module
 */
import { stackingFallbackCounts } from "../engine/fallbacks.ts";

type Labels = Readonly<Record<string, string>>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return "";
  const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
  return `{${keys.map((k) => `${k}="${esc(labels[k])}"`).join(",")}}`;
}

/** One metric family. */
interface Family {
  render(): string;
}

/** A monotonically increasing counter. */
export class Counter implements Family {
  readonly #values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  /** Adds `by` (default 1) to the series with these labels. */
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.#values.set(k, (this.#values.get(k) ?? 0) + by);
  }
  /** Current value of one series (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [k, v] of this.#values) lines.push(`${this.name}${k} ${v}`);
    return lines.join("\n");
  }
}

/** A value that goes up and down; optionally read from a callback at render time. */
export class Gauge implements Family {
  #value = 0;
  constructor(readonly name: string, readonly help: string, readonly read?: () => number) {}
  /** Sets the value (ignored when the gauge reads a callback). */
  set(v: number): void {
    this.#value = v;
  }
  /** Current value. */
  get(): number {
    return this.read ? this.read() : this.#value;
  }
  render(): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n${this.name} ${this.get()}`;
  }
}

/** A cumulative histogram with fixed upper bounds. */
export class Histogram implements Family {
  readonly #series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {}
  /** Records one observation. */
  observe(value: number, labels: Labels = {}): void {
    const k = labelKey(labels);
    let s = this.#series.get(k);
    if (!s) this.#series.set(k, s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 });
    this.buckets.forEach((b, i) => {
      if (value <= b) s.counts[i]++;
    });
    s.sum += value;
    s.count++;
  }
  /** Observation count of one series. */
  count(labels: Labels = {}): number {
    return this.#series.get(labelKey(labels))?.count ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.#series) {
      const inner = k === "" ? "" : k.slice(1, -1) + ",";
      this.buckets.forEach((b, i) =>
        lines.push(`${this.name}_bucket{${inner}le="${b}"} ${s.counts[i]}`)
      );
      lines.push(`${this.name}_bucket{${inner}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${k} ${s.sum}`, `${this.name}_count${k} ${s.count}`);
    }
    return lines.join("\n");
  }
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The service's metrics. `queueDepth` reads the batcher when one is attached. */
export class Metrics {
  readonly requests: Counter = new Counter(
    "si_http_requests_total",
    "HTTP requests by route and status.",
  );
  readonly requestSeconds: Histogram = new Histogram(
    "si_http_request_duration_seconds",
    "Time to the response head (or the whole stream for scoring) by route.",
    LATENCY_BUCKETS,
  );
  readonly images: Counter = new Counter(
    "si_images_total",
    "Images by model and outcome (scored, error, timeout, cancelled); each image counts once.",
  );
  readonly imageSeconds: Histogram = new Histogram(
    "si_image_latency_seconds",
    "Time from admission to score per image, by model.",
    LATENCY_BUCKETS,
  );
  readonly batchSize: Histogram = new Histogram(
    "si_batch_size",
    "Images per scorer call, by model.",
    [1, 2, 4, 8, 16, 32, 64, 128, 256],
  );
  readonly errors: Counter = new Counter("si_errors_total", "API errors by code.");
  queueDepth: Gauge = new Gauge("si_queue_depth", "Images admitted and not yet scored.");
  /** Graphs compiled with per-split remainder clones because stacking was impossible. */
  readonly stackingFallbacks: StackingFallbacks = new StackingFallbacks();
  queueWait: Gauge = new Gauge(
    "si_queue_expected_wait_seconds",
    "Seconds to score every admitted image at the measured drain rate.",
  );

  /** Makes the queue gauges read the batcher (depth, and expected wait) at render time. */
  attachQueue(depth: () => number, waitSeconds?: () => number): void {
    this.queueDepth = new Gauge(this.queueDepth.name, this.queueDepth.help, depth);
    if (waitSeconds) {
      this.queueWait = new Gauge(this.queueWait.name, this.queueWait.help, waitSeconds);
    }
  }

  /** The Prometheus text exposition of all metrics. */
  render(): string {
    const families: Family[] = [
      this.requests,
      this.requestSeconds,
      this.images,
      this.imageSeconds,
      this.batchSize,
      this.queueDepth,
      this.queueWait,
      this.errors,
      this.stackingFallbacks,
    ];
    return families.map((f) => f.render()).join("\n") + "\n";
  }
}

/** `si_stacking_fallbacks_total{model}`, read from src/engine/fallbacks.ts at render time. */
class StackingFallbacks implements Family {
  readonly name = "si_stacking_fallbacks_total";
  render(): string {
    const lines = [
      `# HELP ${this.name} Scoring graphs compiled with one remainder clone per split, by model.`,
      `# TYPE ${this.name} counter`,
    ];
    for (const [model, n] of stackingFallbackCounts()) {
      lines.push(`${this.name}${labelKey({ model })} ${n}`);
    }
    return lines.join("\n");
  }
}
