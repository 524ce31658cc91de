import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../../src/metrics/index.js';

describe('metrics registry (prom-client)', () => {
  it('renders counters and gauges in the Prometheus text format', async () => {
    const registry = new MetricsRegistry({ defaultMetrics: false });
    const rows = registry.counter('rows_total', 'Rows written.', ['table']);
    rows.inc({ table: 'bronze/trades' }, 10);
    rows.inc({ table: 'bronze/trades' }, 5);
    rows.inc({ table: 'a"b\\c' });
    let level: number | undefined = 3.5;
    registry.gauge('level', 'A level.', () => level);
    expect(await registry.render()).toBe(
      [
        '# HELP rows_total Rows written.',
        '# TYPE rows_total counter',
        'rows_total{table="bronze/trades"} 15',
        'rows_total{table="a\\"b\\\\c"} 1',
        '',
        '# HELP level A level.',
        '# TYPE level gauge',
        'level 3.5',
        '',
      ].join('\n'),
    );
    level = undefined;
    expect(await registry.render()).not.toMatch(/^level /m);
    level = 2;
    expect(await registry.render()).toMatch(/^level 2$/m);
  });

  it('reads labelled gauges at each scrape and shares a name registered twice', async () => {
    const registry = new MetricsRegistry({ defaultMetrics: false });
    let versions = [{ labels: { table: 'a' }, value: 1 }];
    registry.labelledGauge('version', 'Versions.', ['table'], async () => versions);
    expect(await registry.render()).toMatch(/^version\{table="a"\} 1$/m);
    versions = [{ labels: { table: 'b' }, value: 7 }];
    const text = await registry.render();
    expect(text).toMatch(/^version\{table="b"\} 7$/m);
    expect(text).not.toMatch(/table="a"/);
    const first = registry.counter('twice_total', 'Twice.');
    expect(registry.counter('twice_total', 'Twice.')).toBe(first);
  });

  it('adds prom-client default process metrics unless told not to', async () => {
    const text = await new MetricsRegistry().render();
    expect(text).toMatch(/^# TYPE process_cpu_seconds_total counter$/m);
    expect(text).toMatch(/^# TYPE nodejs_eventloop_lag_p99_seconds gauge$/m);
  });
});
