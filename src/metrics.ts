/**
 * A small Prometheus registry: gauges and counters read at scrape time. Components register what
 * they know (lag, counts) without a metrics library in every module.
 */
export type MetricType = 'gauge' | 'counter';

interface Metric {
  name: string;
  help: string;
  type: MetricType;
  /** Values by label set, computed at scrape time. */
  collect: () => Array<{ labels?: Record<string, string>; value: number }> | Promise<Array<{ labels?: Record<string, string>; value: number }>>;
}

export class Metrics {
  readonly #metrics = new Map<string, Metric>();
  readonly #counters = new Map<string, Map<string, { labels: Record<string, string>; value: number }>>();

  /** Registers a metric whose values are computed on every scrape. Re-registering replaces it. */
  register(m: Metric): void {
    this.#metrics.set(m.name, m);
  }

  /** Increments a counter (created on first use). */
  inc(name: string, help: string, labels: Record<string, string> = {}, by = 1): void {
    let series = this.#counters.get(name);
    if (!series) {
      series = new Map();
      this.#counters.set(name, series);
      this.register({ name, help, type: 'counter', collect: () => [...series!.values()] });
    }
    const key = JSON.stringify(labels);
    const cur = series.get(key) ?? { labels, value: 0 };
    cur.value += by;
    series.set(key, cur);
  }

  /** The Prometheus text exposition format. */
  async render(): Promise<string> {
    const out: string[] = [];
    for (const m of this.#metrics.values()) {
      let values: Awaited<ReturnType<Metric['collect']>>;
      try {
        values = await m.collect();
      } catch {
        continue;
      }
      out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
      for (const v of values) {
        const labels =
          v.labels && Object.keys(v.labels).length
            ? '{' +
              Object.entries(v.labels)
                .map(([k, val]) => `${k}="${String(val).replace(/["\\\n]/g, '_')}"`)
                .join(',') +
              '}'
            : '';
        out.push(`${m.name}${labels} ${Number.isFinite(v.value) ? v.value : 0}`);
      }
    }
    return `${out.join('\n')}\n`;
  }
}
