import { describe, expect, it } from 'vitest';
import { MemoryBus, type BusRecord } from '../../../src/stream/index.js';

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(condition()).toBe(true);
};

describe('in-process stream bus', () => {
  it('delivers every record once per group, in offset order', async () => {
    const bus = new MemoryBus();
    const seen: Record<string, number[]> = { a: [], b: [] };
    for (const group of ['a', 'b']) {
      await bus.subscribe<number>(
        'trades',
        async (records: readonly BusRecord<number>[]) => {
          seen[group]!.push(...records.map((r) => r.value));
        },
        { group },
      );
    }
    await bus.publish(
      'trades',
      [1, 2, 3].map((value) => ({ key: 'AAPL', value })),
    );
    await bus.publish(
      'trades',
      [4].map((value) => ({ key: 'MSFT', value })),
    );
    await until(() => seen.a!.length === 4 && seen.b!.length === 4);
    expect(seen).toEqual({ a: [1, 2, 3, 4], b: [1, 2, 3, 4] });
    await bus.close();
  });

  it('redelivers a batch whose handler failed', async () => {
    const bus = new MemoryBus();
    const seen: number[] = [];
    let failures = 1;
    await bus.subscribe<number>(
      'trades',
      async (records: readonly BusRecord<number>[]) => {
        if (failures-- > 0) throw new Error('transient');
        seen.push(...records.map((r) => r.value));
      },
      { group: 'g' },
    );
    const quiet = console.error;
    console.error = () => {};
    try {
      await bus.publish('trades', [{ key: 'AAPL', value: 1 }]);
      await new Promise((r) => setTimeout(r, 10));
      await bus.publish('trades', [{ key: 'AAPL', value: 2 }]);
      await until(() => seen.length === 2);
    } finally {
      console.error = quiet;
    }
    expect(seen).toEqual([1, 2]);
  });

  it('starts a new group at the end unless asked for the beginning', async () => {
    const bus = new MemoryBus();
    await bus.subscribe('trades', async () => {}, { group: 'keeper' });
    await bus.publish('trades', [{ key: 'AAPL', value: 1 }]);
    const late: unknown[] = [];
    const early: unknown[] = [];
    await bus.subscribe('trades', async (r) => void late.push(...r.map((x) => x.value)), {
      group: 'late',
    });
    await bus.subscribe('trades', async (r) => void early.push(...r.map((x) => x.value)), {
      group: 'early',
      fromBeginning: true,
    });
    await bus.publish('trades', [{ key: 'AAPL', value: 2 }]);
    await until(() => late.length === 1 && early.length === 2);
    expect(late).toEqual([2]);
    expect(early).toEqual([1, 2]);
  });
});
