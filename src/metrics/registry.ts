import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type LabelValues,
} from 'prom-client';

/**
 * The process's metrics, kept by prom-client and served at `/metrics` in the Prometheus
 * text exposition format (version 0.0.4, "Exposition formats" in the Prometheus docs).
 * Each registry is its own prom-client `Registry` (not the library's global one), so two
 * platforms in one process (tests) never see each other's series. Services receive the
 * counters they increment; gauges are read when scraped.
 */
export type Labels = LabelValues<string>;

export interface MetricsRegistryOptions {
  /**
   * prom-client's default metrics: process CPU, memory, file descriptors, heap, GC and
   * event-loop lag (`process_*`, `nodejs_*`). @default true
   */
  readonly defaultMetrics?: boolean;
}

export class MetricsRegistry {
  /** The prom-client registry behind `/metrics`. */
  readonly registry = new Registry();

  constructor(options: MetricsRegistryOptions = {}) {
    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    }
  }

  /** A counter; `labelNames` lists every label its `inc` calls may give. */
  counter<L extends string = string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
  ): Counter<L> {
    return (
      this.existing<Counter<L>>(name) ??
      new Counter<L>({ name, help, labelNames, registers: [this.registry] })
    );
  }

  /**
   * A gauge read when scraped. `read` may answer undefined (nothing to say yet, e.g. no
   * watermark): the series is then left out rather than shown as 0.
   */
  gauge(
    name: string,
    help: string,
    read: () => number | undefined | Promise<number | undefined>,
  ): Gauge {
    return (
      this.existing<Gauge>(name) ??
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          const value = await read();
          if (value === undefined || !Number.isFinite(value)) this.remove();
          else this.set(value);
        },
      })
    );
  }

  /**
   * A counter whose total another object keeps (a count since start), read when scraped:
   * typed `counter` so that `rate()` applies.
   */
  monotonic(name: string, help: string, read: () => number): Counter {
    return (
      this.existing<Counter>(name) ??
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(read());
        },
      })
    );
  }

  /** A gauge with labels, each series read when scraped (e.g. one per lake table). */
  labelledGauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => Promise<readonly { labels: LabelValues<L>; value: number }[]>,
  ): Gauge<L> {
    return (
      this.existing<Gauge<L>>(name) ??
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers: [this.registry],
        async collect() {
          const samples = await read();
          this.reset();
          for (const { labels, value } of samples) this.set(labels, value);
        },
      })
    );
  }

  /** A histogram; `buckets` are upper bounds in the metric's unit. */
  histogram<L extends string = string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: readonly number[],
  ): Histogram<L> {
    return (
      this.existing<Histogram<L>>(name) ??
      new Histogram<L>({
        name,
        help,
        labelNames,
        buckets: [...buckets],
        registers: [this.registry],
      })
    );
  }

  /**
   * A metric already registered under `name`: two API servers over one platform (tests,
   * a second port) share the platform's series instead of failing on the second.
   */
  private existing<M>(name: string): M | undefined {
    return this.registry.getSingleMetric(name) as M | undefined;
  }

  /** The exposition text. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The media type of `render`'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }
}

export type { Counter, Gauge, Histogram };
