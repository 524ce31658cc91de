/**
 * A small metrics registry in the Prometheus text exposition format (version 0.0.4):
 * counters that services increment and gauges read when scraped. Served at `/metrics`.
 */
export type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
}

export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(readonly family: Family) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels, value: by });
  }

  samples(): { labels: Labels; value: number }[] {
    return [...this.values.values()];
  }
}

export class Gauge {
  constructor(
    readonly family: Family,
    private readonly read: () => number | undefined,
  ) {}

  samples(): { labels: Labels; value: number }[] {
    const value = this.read();
    return value === undefined || !Number.isFinite(value) ? [] : [{ labels: {}, value }];
  }
}

export class MetricsRegistry {
  private readonly metrics: (Counter | Gauge)[] = [];

  counter(name: string, help: string): Counter {
    const counter = new Counter({ name, help, type: 'counter' });
    this.metrics.push(counter);
    return counter;
  }

  gauge(name: string, help: string, read: () => number | undefined): Gauge {
    const gauge = new Gauge({ name, help, type: 'gauge' }, read);
    this.metrics.push(gauge);
    return gauge;
  }

  /** The exposition text, one family after another. */
  render(): string {
    const lines: string[] = [];
    for (const metric of this.metrics) {
      const { name, help, type } = metric.family;
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const sample of metric.samples()) {
        lines.push(`${name}${formatLabels(sample.labels)} ${sample.value}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

function formatLabels(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `{${keys.map((k) => `${k}="${escape(labels[k]!)}"`).join(',')}}`;
}
