import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../../src/metrics/index.js';

describe('metrics registry', () => {
  it('renders counters and gauges in the Prometheus text format', () => {
    const registry = new MetricsRegistry();
    const rows = registry.counter('rows_total', 'Rows written.');
    rows.inc({ table: 'bronze/trades' }, 10);
    rows.inc({ table: 'bronze/trades' }, 5);
    rows.inc({ table: 'a"b\\c' });
    let level: number | undefined = 3.5;
    registry.gauge('level', 'A level.', () => level);
    expect(registry.render()).toBe(
      [
        '# HELP rows_total Rows written.',
        '# TYPE rows_total counter',
        'rows_total{table="bronze/trades"} 15',
        'rows_total{table="a\\"b\\\\c"} 1',
        '# HELP level A level.',
        '# TYPE level gauge',
        'level 3.5',
        '',
      ].join('\n'),
    );
    level = undefined;
    expect(registry.render()).not.toMatch(/^level /m);
  });
});
