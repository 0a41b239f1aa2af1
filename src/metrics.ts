import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Every metric Stockade exports starts with this. */
export const METRIC_PREFIX = 'stockade_';

type Labels = Record<string, string>;
type Collected = Array<{ labels?: Labels; value: number }>;

/** A metric whose values are computed when Prometheus scrapes (lags, positions, totals kept elsewhere). */
export interface ScrapedMetric {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  /** Names of the labels its values carry. @defaultValue none */
  labelNames?: readonly string[];
  collect: () => Collected | Promise<Collected>;
}

/**
 * The process's Prometheus registry (prom-client): the process and event-loop metrics, counters,
 * gauges computed at scrape, and latency histograms. One per process; every role registers what it
 * knows. Names keep the `stockade_` prefix that dashboards rely on.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #counters = new Map<string, Counter<string>>();
  readonly #histograms = new Map<string, Histogram<string>>();

  constructor(o: { defaults?: boolean } = {}) {
    // Process CPU, memory, event-loop lag, GC: what an operator reads first when a role is slow.
    if (o.defaults !== false) collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  /**
   * Registers a metric computed at scrape time. Registering a name again replaces it (a role that
   * restarts inside the process). A failing collector leaves its metric out of that scrape.
   */
  register(m: ScrapedMetric): void {
    this.registry.removeSingleMetric(m.name);
    const collect = m.collect;
    const options = {
      name: m.name,
      help: m.help,
      registers: [this.registry],
      labelNames: [...(m.labelNames ?? [])],
      async collect(this: Gauge<string> | Counter<string>) {
        this.reset();
        let values: Collected;
        try {
          values = await collect();
        } catch {
          return;
        }
        for (const v of values) {
          const value = Number.isFinite(v.value) ? v.value : 0;
          if (this instanceof Gauge) this.set(v.labels ?? {}, value);
          else (this as Counter<string>).inc(v.labels ?? {}, value);
        }
      },
    };
    if (m.type === 'gauge') new Gauge(options);
    else new Counter(options);
  }

  /** Adds `by` to a counter, made on first use with the label names of its first call. */
  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    let c = this.#counters.get(name);
    if (!c) {
      c = new Counter({ name, help, labelNames: Object.keys(labels), registers: [this.registry] });
      this.#counters.set(name, c);
    }
    c.inc(labels, by);
  }

  /** A latency histogram in seconds, made on first use. */
  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets: number[] = LATENCY_BUCKETS_S): Histogram<string> {
    let h = this.#histograms.get(name);
    if (!h) {
      h = new Histogram({ name, help, labelNames: [...labelNames], buckets, registers: [this.registry] });
      this.#histograms.set(name, h);
    }
    return h;
  }

  /** The Prometheus text exposition format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of `render()`. */
  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Buckets for request and append latencies: 0.5 ms to 10 s. */
export const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Buckets for lags that run from well under a second to minutes. */
export const LAG_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * `stockade_jetstream_calls_total{op}`: every call this process's door to JetStream made, by kind
 * (publishes, acks, pull requests, message gets, stream and consumer requests, KV operations).
 */
export function registerJetStreamCalls(metrics: Metrics, calls: { snapshot(): Record<string, number> }): void {
  metrics.register({
    name: 'stockade_jetstream_calls_total',
    help: 'JetStream API calls and acknowledged messages sent by this process, by kind',
    type: 'counter',
    labelNames: ['op'],
    collect: () => Object.entries(calls.snapshot()).map(([op, value]) => ({ labels: { op }, value })),
  });
}
