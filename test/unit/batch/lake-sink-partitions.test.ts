import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LakeSink, openMedallion, type Medallion } from '../../../src/batch/index.js';
import {
  aggregateBars,
  ManualClock,
  MINUTE_US,
  type Bar,
  type Trade,
} from '../../../src/domain/index.js';
import { localObjectStore, type LakeTimestamp } from '../../../src/lake/index.js';
import type {
  BatchHandler,
  BusCapabilities,
  BusHealth,
  StartOffsets,
  StreamBus,
  SubscribeOptions,
  Topic,
} from '../../../src/stream/index.js';

/**
 * Per-partition sealing in silver (docs/sink.md) with two sinks on one lake folder, each
 * owning a partition of one log, as two Kafka group members would. The bus here is a
 * script of assignments and deliveries (the group protocol itself is Kafka's, checked on
 * the real broker in test/services/sink-exactly-once.test.ts): what is checked is what the
 * sinks commit.
 */
const T0 = Date.parse('2026-11-20T15:00:00Z') * 1000; // µs
const LOG = 'unit-trades';

/** One member's view of a two-partition trades log: the test assigns and delivers. */
class ScriptedBus implements StreamBus {
  readonly capabilities: BusCapabilities = {
    durable: true,
    sharedGroups: true,
    boundedBuffer: false,
  };
  private readonly handlers = new Map<Topic, BatchHandler<unknown>>();
  private readonly starts = new Map<
    Topic,
    (partitions: readonly number[]) => Promise<StartOffsets>
  >();

  logName(topic: Topic): string {
    return topic === 'trades' ? LOG : `unit-${topic}`;
  }

  async health(): Promise<BusHealth> {
    return { ready: true, detail: 'scripted' };
  }

  async publish(): Promise<void> {
    throw new Error('the scripted bus only delivers');
  }

  async endOffsets(): Promise<StartOffsets> {
    throw new Error('the scripted bus only delivers');
  }

  async subscribe<T>(topic: Topic, handler: BatchHandler<T>, options: SubscribeOptions) {
    this.handlers.set(topic, handler as BatchHandler<unknown>);
    if (options.startOffsets) this.starts.set(topic, options.startOffsets);
  }

  async close(): Promise<void> {}

  /** A (re)assignment of trades partitions: where the sink says each starts. */
  assign(partitions: readonly number[]): Promise<StartOffsets> {
    return this.starts.get('trades')!(partitions);
  }

  deliver(partition: number, first: number, trades: readonly Trade[]): Promise<void> {
    return this.handlers.get('trades')!(
      trades.map((value, i) => ({
        topic: 'trades',
        partition,
        offset: String(first + i),
        key: value.symbol,
        value,
      })),
    );
  }
}

/** `count` trades of `symbol`, one every `stepUs` from `from`, dyadic prices. */
function tape(symbol: string, from: number, count: number, stepUs: number, seq0: number): Trade[] {
  return Array.from({ length: count }, (_, i) => ({
    symbol,
    ts: from + i * stepUs,
    seq: seq0 + i,
    price: 100 + ((i * 7919) % 4096) / 128,
    size: 1 + (i % 50),
    id: `${symbol}-${i}`,
    exchange: 'XNAS',
  }));
}

async function silverBars(tables: Medallion): Promise<Bar[]> {
  const result = await tables.bars1m.query({
    columns: ['symbol', 'ts', 'open', 'high', 'low', 'close', 'volume', 'vwap', 'trade_count'],
  });
  return result.rows
    .map((row) => ({
      symbol: row.symbol as string,
      interval: '1m' as const,
      ts: (row.ts as LakeTimestamp).epochMicros!,
      open: row.open as number,
      high: row.high as number,
      low: row.low as number,
      close: row.close as number,
      volume: row.volume as number,
      vwap: row.vwap as number,
      tradeCount: row.trade_count as number,
    }))
    .sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : a.ts - b.ts));
}

describe('lake sink: silver sealed per partition', () => {
  let dir = '';
  let tables: Medallion;
  const clock = new ManualClock(T0 + 30 * MINUTE_US);
  const open = () =>
    LakeSink.open(tables, clock, { intervalMs: 1_000, allowedLatenessUs: 2_000_000 });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'alphalake-sink-partitions-'));
    tables = await openMedallion(localObjectStore(dir));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('two sinks seal each bar once, and the watermark waits for the slower partition', async () => {
    const [a, b] = [await open(), await open()];
    const [busA, busB] = [new ScriptedBus(), new ScriptedBus()];
    const signal = new AbortController().signal;
    await a.start(busA, signal, { timer: false });
    await b.start(busB, signal, { timer: false });

    // The first member gets both partitions and registers them: nothing sealed, no watermark.
    expect(await busA.assign([0, 1])).toEqual(
      new Map([
        [0, '0'],
        [1, '0'],
      ]),
    );
    await a.flush();
    expect(await a.refreshWatermark()).toBeUndefined();

    // The second member joins: partition 1 moves to it.
    await busA.assign([0]);
    expect(await busB.assign([1])).toEqual(new Map([[1, '0']]));
    // AAPL (partition 0) runs to minute 7; MSFT (partition 1) only to minute 3.
    const aapl = tape('AAPL', T0, 800, 600_000, 1); // 8 minutes
    const msft = tape('MSFT', T0, 350, 600_000, 1); // 3.5 minutes
    await busA.deliver(0, 0, aapl);
    await busB.deliver(1, 0, msft);
    await a.flush();
    // Partition 0 sealed to minute 7, partition 1 still at 0: the watermark waits.
    expect(await a.refreshWatermark()).toBeUndefined();
    await b.flush();
    const sealedMsft = T0 + 3 * MINUTE_US;
    expect(await b.refreshWatermark()).toBe(sealedMsft);
    // A reader (an API server) takes the same watermark from the table.
    expect(await (await open()).refreshWatermark()).toBe(sealedMsft);

    const expected = [
      ...aggregateBars(aapl.filter((t) => t.ts < T0 + 7 * MINUTE_US)),
      ...aggregateBars(msft.filter((t) => t.ts < sealedMsft)),
    ].sort((x, y) => (x.symbol < y.symbol ? -1 : x.symbol > y.symbol ? 1 : x.ts - y.ts));
    expect(await silverBars(tables)).toEqual(expected);

    // Flushing again seals nothing twice.
    await a.flush();
    await b.flush();
    expect(await silverBars(tables)).toEqual(expected);
    expect((await tables.trades.query({ columns: ['id'] })).rows).toHaveLength(1_150);
  });

  it('writes a late trade with nanoseconds to bronze.trades and as a LATE_EVENT reject, its nanoseconds whole', async () => {
    const sink = await open();
    const bus = new ScriptedBus();
    await sink.start(bus, new AbortController().signal, { timer: false });
    await bus.assign([0]);
    const nanos = (t: Trade, extra: bigint): Trade => ({
      ...t,
      tsNanos: BigInt(t.ts) * 1000n + extra,
    });
    // Minutes 0..5 sealed, then a trade of minute 1 arrives: late (a ticker-sorted file).
    const early = tape('AAPL', T0, 360, 1_000_000, 1).map((t) => nanos(t, 1n));
    await bus.deliver(0, 0, early);
    await sink.flush();
    const late = nanos(tape('MSFT', T0 + MINUTE_US, 1, 1, 1)[0]!, 999n);
    await bus.deliver(0, early.length, [late]);
    await sink.flush();
    const rejects = await tables.rejects.query({ columns: ['reason', 'payload'] });
    expect(rejects.rows).toEqual([
      {
        reason: 'LATE_EVENT',
        payload: JSON.stringify({ ...late, tsNanos: late.tsNanos!.toString() }),
      },
    ]);
    const held = await tables.trades.query({
      columns: ['id', 'ts_nanos'],
      filters: [{ column: 'symbol', op: '=', value: 'MSFT' }],
    });
    expect(held.rows).toEqual([{ id: late.id, ts_nanos: late.tsNanos }]);
  });

  it('refuses a seal of a partition another member sealed meanwhile, and seals nothing twice', async () => {
    const [a, b] = [await open(), await open()];
    const [busA, busB] = [new ScriptedBus(), new ScriptedBus()];
    const signal = new AbortController().signal;
    await a.start(busA, signal, { timer: false });
    await b.start(busB, signal, { timer: false });
    await busA.assign([0]);
    const aapl = tape('AAPL', T0, 600, 600_000, 1); // 6 minutes
    await busA.deliver(0, 0, aapl.slice(0, 300));
    await a.flush(); // bronze holds offsets [0, 300), silver minutes [0, 2)

    // Partition 0 moves to B while A still holds it: B starts at silver's offset.
    const starts = await busB.assign([0]);
    await busB.deliver(0, Number(starts.get(0)), aapl.slice(Number(starts.get(0))));
    await b.flush();
    // A, not told yet, gets the rest too and flushes: its commits are refused (CONFLICT).
    await busA.deliver(0, 300, aapl.slice(300));
    await expect(a.flush()).rejects.toMatchObject({ code: 'CONFLICT' });
    // Its trades lie below the watermark B moved, yet A does not reject them as late:
    // they are not A's to judge (its bronze offset moved under it).
    expect((await tables.rejects.query({ columns: ['reason'] })).rows).toEqual([]);

    const ids = (await tables.trades.query({ columns: ['id'] })).rows.map((row) => row.id);
    expect(ids).toHaveLength(600);
    expect(new Set(ids).size).toBe(600);
    expect(await silverBars(tables)).toEqual(
      aggregateBars(aapl.filter((t) => t.ts < T0 + 5 * MINUTE_US)),
    );
  });
});
