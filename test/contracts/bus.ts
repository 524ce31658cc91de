/**
 * The stream bus contract (src/stream/bus.ts): one suite, run against every adapter.
 * The in-process backend runs in the unit tier (test/unit/stream/bus.test.ts), Kafka in
 * the services tier against the real broker (test/services/kafka-bus.test.ts). What only
 * some adapters can do is gated by their capability flags, never by their name.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { Bar, Quote, Trade } from '../../src/domain/index.js';
import {
  KafkaBus,
  MemoryBus,
  nextOffset,
  TOPICS,
  type BusRecord,
  type KafkaBusOptions,
  type StreamBus,
  type Topic,
} from '../../src/stream/index.js';

export interface BusBackend {
  readonly name: string;
  /** Needs the real servers (services tier). */
  readonly services: boolean;
  /**
   * A bus on topics no other test uses. With `sharing`, a second client of the same
   * topics (another process, as far as the bus can tell); only for `sharedGroups` buses.
   */
  open(options?: { sharing?: StreamBus; tuning?: Partial<KafkaBusOptions> }): Promise<StreamBus>;
  /** Closes every bus it opened and removes what they left on the servers. */
  dispose(): Promise<void>;
}

export function memoryBackend(): BusBackend {
  const buses: StreamBus[] = [];
  return {
    name: 'in-process',
    services: false,
    async open() {
      const bus = new MemoryBus();
      buses.push(bus);
      return bus;
    },
    async dispose() {
      await Promise.all(buses.splice(0).map((bus) => bus.close()));
    },
  };
}

/** Kafka on `brokers`; each bus gets topics named after a fresh UUID (the broker is shared). */
export function kafkaBackend(brokers: () => readonly string[]): BusBackend {
  const buses: KafkaBus[] = [];
  const topicNames: string[] = [];
  return {
    name: 'Kafka',
    services: true,
    async open({ sharing, tuning } = {}) {
      const run = randomUUID().slice(0, 8);
      const names =
        sharing instanceof KafkaBus
          ? Object.fromEntries(TOPICS.map((t) => [t, sharing.topicName(t)]))
          : Object.fromEntries(TOPICS.map((t) => [t, `contract-${run}-${t}`]));
      const bus = await KafkaBus.connect({
        brokers: brokers(),
        clientId: `alphalake-contract-${run}`,
        topicNames: names as Record<Topic, string>,
        partitions: 3,
        replicationFactor: 1,
        retryDelayMs: 50,
        ...tuning,
      });
      buses.push(bus);
      topicNames.push(...Object.values(names));
      return bus;
    },
    async dispose() {
      await Promise.all(buses.splice(0).map((bus) => bus.close()));
      const { Kafka, logLevel } = await import('kafkajs');
      const admin = new Kafka({ brokers: [...brokers()], logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        const existing = new Set(await admin.listTopics());
        const topics = [...new Set(topicNames.splice(0))].filter((t) => existing.has(t));
        if (topics.length > 0) await admin.deleteTopics({ topics });
      } finally {
        await admin.disconnect();
      }
    },
  };
}

/** Epoch microseconds (2025-12-01T00:00:00.123456Z): the domain's time unit. */
const T0 = 1_764_547_200_123_456;

function trade(symbol: string, i: number): Trade {
  return {
    symbol,
    ts: T0 + i * 1_337,
    seq: i,
    // Cents, an inexact sum, and π: decimal columns, and a fallback to float64.
    price: i % 7 === 3 ? Math.PI * 50 : i % 5 === 1 ? 0.1 + 0.2 + 100 : 100 + i / 100,
    size: i % 4 === 2 ? 0.5 : 1 + (i % 9) * 100,
    id: i % 6 === 5 ? `x-00${i}` : `20251201-${1_000 + i}`,
    exchange: i % 2 === 0 ? 'XNAS' : 'XNYS',
  };
}

const quote = (symbol: string, i: number): Quote => ({
  symbol,
  ts: T0 + i * 17,
  bidPrice: 99.99 + i / 100,
  bidSize: 300 + i,
  askPrice: 100.01 + i / 100,
  askSize: 200 + i,
});

const bar = (symbol: string, i: number): Bar => ({
  symbol,
  interval: '1m',
  ts: T0 - (T0 % 60_000_000) + i * 60_000_000,
  open: 100.5,
  high: 101.25 + i,
  low: 99.75,
  close: 100 + i / 3,
  volume: 12_345 + i,
  vwap: 100.37071234567891 + i,
  tradeCount: 17 + i,
});

/** Waits (polling, no deadline of its own: the test's timeout is the bound) for `condition`. */
async function eventually(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Collects what a group receives. */
class Inbox<T> {
  readonly records: BusRecord<T>[] = [];
  readonly batches: (readonly BusRecord<T>[])[] = [];
  readonly handler = async (batch: readonly BusRecord<T>[]) => {
    this.batches.push(batch);
    this.records.push(...batch);
  };
  get values(): T[] {
    return this.records.map((r) => r.value);
  }
  byKey(): Map<string, T[]> {
    const byKey = new Map<string, T[]>();
    for (const r of this.records) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r.value]);
    return byKey;
  }
}

function groupName(): string {
  return `contract-group-${randomUUID().slice(0, 8)}`;
}

async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected the promise to reject');
}

export function describeBusContract(backend: BusBackend): void {
  describe(`stream bus contract: ${backend.name}`, () => {
    afterAll(() => backend.dispose());

    it('says it is ready while open, and not once closed', async () => {
      const bus = await backend.open();
      const open = await bus.health();
      expect(open.ready).toBe(true);
      expect(open.detail).not.toBe('');
      await bus.close();
      expect((await bus.health()).ready).toBe(false);
    });

    it('delivers every record once per group, each key in publish order', async () => {
      const bus = await backend.open();
      const a = new Inbox<Trade>();
      const b = new Inbox<Trade>();
      await bus.subscribe('trades', a.handler, { group: groupName() });
      await bus.subscribe('trades', b.handler, { group: groupName() });
      const symbols = ['AAPL', 'MSFT', 'NVDA'];
      const first = Array.from({ length: 30 }, (_, i) => trade(symbols[i % 3]!, i));
      const second = Array.from({ length: 30 }, (_, i) => trade(symbols[i % 2]!, 30 + i));
      await bus.publish(
        'trades',
        first.map((t) => ({ key: t.symbol, value: t })),
      );
      await bus.publish(
        'trades',
        second.map((t) => ({ key: t.symbol, value: t })),
      );
      const sent = [...first, ...second];
      await eventually(() => a.records.length >= sent.length && b.records.length >= sent.length);
      const expected = new Map(
        symbols.map((s) => [s, sent.filter((t) => t.symbol === s)] as const),
      );
      for (const inbox of [a, b]) {
        expect(inbox.records).toHaveLength(sent.length);
        expect(inbox.byKey()).toEqual(expected);
      }
    });

    it('delivers a publish larger than one request can carry, in order', async () => {
      // On Kafka: 10 trades a message and 1 kB a request, so 600 trades go in many parts.
      const bus = await backend.open({ tuning: { recordsPerMessage: 10, batchBytes: 1_000 } });
      const inbox = new Inbox<Trade>();
      await bus.subscribe('trades', inbox.handler, { group: groupName() });
      const sent = Array.from({ length: 600 }, (_, i) => trade(i % 2 ? 'AAPL' : 'MSFT', i));
      await bus.publish(
        'trades',
        sent.map((t) => ({ key: t.symbol, value: t })),
      );
      await eventually(() => inbox.records.length >= sent.length);
      expect(inbox.records).toHaveLength(sent.length);
      expect(inbox.byKey()).toEqual(
        new Map(['MSFT', 'AAPL'].map((s) => [s, sent.filter((t) => t.symbol === s)] as const)),
      );
    });

    it('lets one group read several topics, each on its own', async () => {
      const bus = await backend.open();
      const group = groupName();
      const trades = new Inbox<Trade>();
      const quotes = new Inbox<Quote>();
      // As the speed layer does: one group name, a subscription per topic.
      await bus.subscribe('trades', trades.handler, { group });
      await bus.subscribe('quotes', quotes.handler, { group });
      const symbols = ['AAPL', 'MSFT', 'NVDA', 'TSLA'];
      const sentTrades = Array.from({ length: 12 }, (_, i) => trade(symbols[i % 4]!, i));
      const sentQuotes = Array.from({ length: 12 }, (_, i) => quote(symbols[i % 4]!, i));
      await bus.publish(
        'trades',
        sentTrades.map((t) => ({ key: t.symbol, value: t })),
      );
      await bus.publish(
        'quotes',
        sentQuotes.map((q) => ({ key: q.symbol, value: q })),
      );
      await eventually(() => trades.records.length >= 12 && quotes.records.length >= 12);
      const expected = <T extends { symbol: string }>(sent: T[]) =>
        new Map(symbols.map((s) => [s, sent.filter((r) => r.symbol === s)] as const));
      expect(trades.byKey()).toEqual(expected(sentTrades));
      expect(quotes.byKey()).toEqual(expected(sentQuotes));
    });

    it('keeps a key on one partition, with int64 offsets that grow along it', async () => {
      const bus = await backend.open();
      const inbox = new Inbox<Trade>();
      await bus.subscribe('trades', inbox.handler, { group: groupName() });
      const symbols = ['AAPL', 'AMZN', 'GOOGL', 'MSFT', 'NVDA', 'TSLA'];
      let sent = 0;
      for (let round = 0; round < 4; round++) {
        const trades = symbols.map((s, i) => trade(s, round * 10 + i));
        await bus.publish(
          'trades',
          trades.map((t) => ({ key: t.symbol, value: t })),
        );
        sent += trades.length;
      }
      await eventually(() => inbox.records.length >= sent);
      expect(inbox.records).toHaveLength(sent);
      const partitionOf = new Map<string, Set<number>>();
      const lastOffset = new Map<number, bigint>();
      for (const record of inbox.records) {
        expect(record.topic).toBe('trades');
        expect(record.offset).toMatch(/^(0|[1-9][0-9]*)$/);
        partitionOf.set(
          record.key,
          (partitionOf.get(record.key) ?? new Set()).add(record.partition),
        );
        const offset = BigInt(record.offset);
        expect(offset >= (lastOffset.get(record.partition) ?? 0n)).toBe(true);
        lastOffset.set(record.partition, offset);
      }
      for (const symbol of symbols) expect(partitionOf.get(symbol)?.size).toBe(1);
      // A handler's batch is one partition's, in offset order.
      for (const batch of inbox.batches) {
        expect(new Set(batch.map((r) => r.partition)).size).toBe(1);
      }
    });

    it('says where each partition ends: the next offset its next record gets', async () => {
      const bus = await backend.open();
      const before = await bus.endOffsets('trades');
      expect(before.size).toBeGreaterThan(0);
      const inbox = new Inbox<Trade>();
      await bus.subscribe('trades', inbox.handler, { group: groupName() });
      const symbols = ['AAPL', 'AMZN', 'GOOGL', 'MSFT', 'NVDA', 'TSLA'];
      const sent = symbols.map((s, i) => trade(s, i));
      await bus.publish(
        'trades',
        sent.map((t) => ({ key: t.symbol, value: t })),
      );
      await eventually(() => inbox.records.length >= sent.length);
      const after = await bus.endOffsets('trades');
      expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
      // Each partition's end moved past the last record it delivered, and no further than
      // one message a record (a batched encoding may carry several in one).
      let moved = 0n;
      for (const [partition, end] of after) {
        const last = inbox.records.filter((r) => r.partition === partition).at(-1);
        if (last) expect(BigInt(end)).toBe(BigInt(last.offset) + 1n);
        moved += BigInt(end) - BigInt(before.get(partition) ?? '0');
      }
      expect(moved >= 1n && moved <= BigInt(sent.length)).toBe(true);
      await bus.close();
    });

    it('carries trades, quotes, bars, news and rejects exactly', async () => {
      const bus = await backend.open();
      const sent: Record<Topic, { key: string; value: unknown }[]> = {
        // Some with Polygon's sale conditions and nanoseconds (columnar kind 6 on Kafka).
        trades: Array.from({ length: 50 }, (_, i) => trade('AAPL', i))
          .map((t, i) =>
            i % 3 === 0
              ? { ...t, tsNanos: BigInt(t.ts) * 1000n + 7n, conditions: [12, 37 + (i % 5)] }
              : t,
          )
          .map((value) => ({ key: value.symbol, value })),
        quotes: Array.from({ length: 20 }, (_, i) => quote('MSFT', i)).map((value) => ({
          key: value.symbol,
          value,
        })),
        bars: Array.from({ length: 5 }, (_, i) => bar('NVDA', i)).map((value) => ({
          key: value.symbol,
          value,
        })),
        news: [
          {
            key: 'AAPL',
            value: { id: 'n-1', symbols: ['AAPL'], ts: T0, headline: 'Ünïcödé ✓ “quoted”' },
          },
        ],
        rejects: [
          {
            key: 'simulator',
            value: {
              source: 'simulator',
              kind: 'trade',
              reason: 'PRICE_NOT_POSITIVE',
              payload: '{"price":-1}',
              receivedAt: T0,
            },
          },
        ],
      };
      const inboxes = new Map<Topic, Inbox<unknown>>();
      for (const topic of TOPICS) {
        await bus.publish(topic, sent[topic]);
        const inbox = new Inbox<unknown>();
        inboxes.set(topic, inbox);
        await bus.subscribe(topic, inbox.handler, { group: groupName(), fromBeginning: true });
      }
      for (const topic of TOPICS) {
        const inbox = inboxes.get(topic)!;
        await eventually(() => inbox.records.length >= sent[topic].length);
        expect(inbox.records.map((r) => ({ key: r.key, value: r.value }))).toEqual(sent[topic]);
        expect(inbox.records.every((r) => r.topic === topic)).toBe(true);
      }
      // Exactly, not approximately: each number as the same double, bit for bit.
      const received = inboxes.get('trades')!.values as Trade[];
      received.forEach((t, i) => {
        const original = sent.trades[i]!.value as Trade;
        for (const field of ['ts', 'price', 'size'] as const) {
          expect(Object.is(t[field], original[field])).toBe(true);
        }
      });
    });

    it('with concurrentPartitions, still runs one handler at a time per partition, in order', async () => {
      const bus = await backend.open();
      const inbox = new Inbox<Trade>();
      const running = new Set<number>();
      const overlaps: number[] = [];
      await bus.subscribe<Trade>(
        'trades',
        async (records) => {
          const partition = records[0]!.partition;
          if (running.has(partition)) overlaps.push(partition);
          running.add(partition);
          // A handler that waits on I/O, as the speed layer's store writes do.
          await new Promise((resolve) => setTimeout(resolve, 2));
          running.delete(partition);
          await inbox.handler(records);
        },
        { group: groupName(), concurrentPartitions: true },
      );
      const symbols = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'TSLA', 'GOOGL'];
      const sent = Array.from({ length: 300 }, (_, i) => trade(symbols[i % symbols.length]!, i));
      for (let i = 0; i < sent.length; i += 10) {
        await bus.publish(
          'trades',
          sent.slice(i, i + 10).map((t) => ({ key: t.symbol, value: t })),
        );
      }
      await eventually(() => inbox.records.length >= sent.length);
      expect(overlaps).toEqual([]);
      expect(inbox.records).toHaveLength(sent.length);
      expect(inbox.byKey()).toEqual(
        new Map(symbols.map((s) => [s, sent.filter((t) => t.symbol === s)] as const)),
      );
    });

    it('delivers a batch again when its handler failed, before anything after it', async () => {
      const bus = await backend.open();
      const seen: number[] = [];
      let failures = 1;
      const quiet = console.error;
      console.error = () => {};
      try {
        await bus.subscribe<Trade>(
          'trades',
          async (records) => {
            if (failures > 0) {
              failures--;
              throw new Error('transient');
            }
            seen.push(...records.map((r) => r.value.size));
          },
          { group: groupName() },
        );
        await bus.publish('trades', [{ key: 'AAPL', value: { ...trade('AAPL', 0), size: 1 } }]);
        await eventually(() => failures === 0);
        await bus.publish('trades', [{ key: 'AAPL', value: { ...trade('AAPL', 1), size: 2 } }]);
        await eventually(() => seen.length >= 2);
      } finally {
        console.error = quiet;
      }
      expect(seen).toEqual([1, 2]);
    });

    it('starts a new group at the end unless asked for the beginning', async () => {
      const bus = await backend.open();
      await bus.subscribe('trades', async () => {}, { group: groupName() });
      await bus.publish('trades', [{ key: 'AAPL', value: trade('AAPL', 1) }]);
      const late = new Inbox<Trade>();
      const early = new Inbox<Trade>();
      await bus.subscribe('trades', late.handler, { group: groupName() });
      await bus.subscribe('trades', early.handler, { group: groupName(), fromBeginning: true });
      await bus.publish('trades', [{ key: 'AAPL', value: trade('AAPL', 2) }]);
      await eventually(() => late.records.length >= 1 && early.records.length >= 2);
      expect(late.values).toEqual([trade('AAPL', 2)]);
      expect(early.values).toEqual([trade('AAPL', 1), trade('AAPL', 2)]);
    });

    it('resumes a group after the last batch it handled', async () => {
      const bus = await backend.open();
      const group = groupName();
      const before = new Inbox<Trade>();
      const stop = new AbortController();
      await bus.subscribe('trades', before.handler, { group, signal: stop.signal });
      await bus.publish(
        'trades',
        [1, 2, 3].map((i) => ({ key: 'AAPL', value: trade('AAPL', i) })),
      );
      await eventually(() => before.records.length >= 3);
      stop.abort();
      await bus.publish(
        'trades',
        [4, 5].map((i) => ({ key: 'AAPL', value: trade('AAPL', i) })),
      );
      const after = new Inbox<Trade>();
      // The committed offset wins over fromBeginning.
      await bus.subscribe('trades', after.handler, { group, fromBeginning: true });
      await eventually(() => after.records.length >= 2);
      expect(before.values).toEqual([1, 2, 3].map((i) => trade('AAPL', i)));
      expect(after.values).toEqual([4, 5].map((i) => trade('AAPL', i)));
    });

    it('starts the partitions startOffsets names at those offsets', async () => {
      const bus = await backend.open();
      for (let i = 1; i <= 5; i++) {
        await bus.publish('trades', [{ key: 'AAPL', value: trade('AAPL', i) }]);
      }
      const probe = new Inbox<Trade>();
      await bus.subscribe('trades', probe.handler, { group: groupName(), fromBeginning: true });
      await eventually(() => probe.records.length >= 5);
      // Resume after the second record, as a sink that handled it would.
      const second = probe.records[1]!;
      const third = { partition: second.partition, offset: nextOffset(second.offset) };
      const asked: number[][] = [];
      const resumed = new Inbox<Trade>();
      await bus.subscribe('trades', resumed.handler, {
        group: groupName(),
        startOffsets: async (partitions) => {
          asked.push([...partitions]);
          return new Map([[third.partition, third.offset]]);
        },
      });
      await bus.publish('trades', [{ key: 'AAPL', value: trade('AAPL', 6) }]);
      await eventually(() => resumed.records.length >= 4);
      expect(resumed.values).toEqual([3, 4, 5, 6].map((i) => trade('AAPL', i)));
      expect(asked.length).toBeGreaterThanOrEqual(1);
      expect(asked[0]).toContain(third.partition);
    });

    it('refuses a publish whose signal has aborted, and publishes none of it', async () => {
      const bus = await backend.open();
      const aborted = new AbortController();
      aborted.abort(new Error('shutting down'));
      const error = await rejection(
        bus.publish('trades', [{ key: 'AAPL', value: trade('AAPL', 1) }], {
          signal: aborted.signal,
        }),
      );
      expect(error.code).toBe('UNAVAILABLE');
      expect(error.message).toMatch(/none of its 1 records were published/);
      await bus.publish('trades', [{ key: 'AAPL', value: trade('AAPL', 2) }]);
      const inbox = new Inbox<Trade>();
      await bus.subscribe('trades', inbox.handler, { group: groupName(), fromBeginning: true });
      await eventually(() => inbox.records.length >= 1);
      expect(inbox.values).toEqual([trade('AAPL', 2)]);
    });

    for (const [bound, tuning] of [
      ['bytes', { maxBufferedBytes: 1 }],
      ['records', { maxBufferedRecords: 1 }],
    ] as const) {
      it(`makes a publish wait while the buffer is full (${bound}); its signal ends the wait`, async (context) => {
        // A bound of one: any publish fills the buffer, the next waits for the broker's ack.
        const bus = await backend.open({ tuning });
        if (!bus.capabilities.boundedBuffer) return context.skip();
        const first = bus.publish('trades', [{ key: 'AAPL', value: trade('AAPL', 1) }]);
        const stop = new AbortController();
        const waiting = bus.publish('trades', [{ key: 'AAPL', value: trade('AAPL', 2) }], {
          signal: stop.signal,
        });
        const queued = bus.publish('trades', [{ key: 'AAPL', value: trade('AAPL', 3) }]);
        stop.abort(new Error('gave up'));
        const error = await rejection(waiting);
        expect(error.code).toBe('UNAVAILABLE');
        expect(error.message).toMatch(/buffer was full.*none of its 1 records were sent/);
        await first;
        await queued;
        const inbox = new Inbox<Trade>();
        await bus.subscribe('trades', inbox.handler, { group: groupName(), fromBeginning: true });
        await eventually(() => inbox.records.length >= 2);
        expect(inbox.values).toEqual([trade('AAPL', 1), trade('AAPL', 3)]);
      });
    }

    it('sends what it queued on close, and refuses what still waited for room', async (context) => {
      const bus = await backend.open({ tuning: { maxBufferedBytes: 1 } });
      if (!bus.capabilities.boundedBuffer) return context.skip();
      const queued = bus.publish('trades', [{ key: 'AAPL', value: trade('AAPL', 1) }]);
      const waiting = rejection(bus.publish('trades', [{ key: 'AAPL', value: trade('AAPL', 2) }]));
      await bus.close();
      await queued;
      const error = await waiting;
      expect(error.code).toBe('UNAVAILABLE');
      expect(error.message).toMatch(
        /closed while a publish to trades waited.*none of its 1 records/,
      );
      const reader = await backend.open({ sharing: bus });
      const inbox = new Inbox<Trade>();
      await reader.subscribe('trades', inbox.handler, { group: groupName(), fromBeginning: true });
      await eventually(() => inbox.records.length >= 1);
      await reader.publish('trades', [{ key: 'AAPL', value: trade('AAPL', 3) }]);
      await eventually(() => inbox.records.length >= 2);
      expect(inbox.values).toEqual([trade('AAPL', 1), trade('AAPL', 3)]);
    });

    it('divides the partitions among the members of one group', async (context) => {
      const one = await backend.open();
      if (!one.capabilities.sharedGroups) return context.skip();
      const two = await backend.open({ sharing: one });
      const group = groupName();
      const a = new Inbox<Trade>();
      const b = new Inbox<Trade>();
      await one.subscribe('trades', a.handler, { group });
      await two.subscribe('trades', b.handler, { group });
      const symbols = Array.from({ length: 12 }, (_, i) => `SYM${i}`);
      const trades = symbols.flatMap((s, i) => [trade(s, i), trade(s, 100 + i)]);
      await one.publish(
        'trades',
        trades.map((t) => ({ key: t.symbol, value: t })),
      );
      await eventually(() => a.records.length + b.records.length >= trades.length);
      const partitionsOf = (inbox: Inbox<Trade>) => new Set(inbox.records.map((r) => r.partition));
      expect(a.records.length).toBeGreaterThan(0);
      expect(b.records.length).toBeGreaterThan(0);
      expect([...partitionsOf(a)].filter((p) => partitionsOf(b).has(p))).toEqual([]);
      const union = [...a.values, ...b.values].map((t) => t.id + '@' + t.symbol);
      expect(new Set(union).size).toBe(trades.length);
      expect(union).toHaveLength(trades.length);
    });

    it('loses nothing while a member joins mid-stream, and keeps each key in order', async (context) => {
      const one = await backend.open();
      if (!one.capabilities.sharedGroups) return context.skip();
      const group = groupName();
      const a = new Inbox<Trade>();
      const b = new Inbox<Trade>();
      await one.subscribe('trades', a.handler, { group });
      const symbols = Array.from({ length: 9 }, (_, i) => `SYM${i}`);
      const sent: Trade[] = [];
      const round = async (r: number) => {
        const trades = symbols.map((s, i) => trade(s, r * 100 + i));
        sent.push(...trades);
        await one.publish(
          'trades',
          trades.map((t) => ({ key: t.symbol, value: t })),
        );
      };
      for (let r = 0; r < 10; r++) await round(r);
      await eventually(() => a.records.length >= 10 * symbols.length);
      const two = await backend.open({ sharing: one });
      const joining = two.subscribe('trades', b.handler, { group });
      // Published while the group rebalances.
      for (let r = 10; r < 20; r++) await round(r);
      await joining;
      for (let r = 20; r < 30; r++) await round(r);
      const ids = (inbox: Inbox<Trade>) => inbox.values.map((t) => t.id);
      await eventually(() => new Set([...ids(a), ...ids(b)]).size >= sent.length);
      // At least once: every trade arrived; a batch handled but not committed before the
      // rebalance may arrive twice, never out of order within one member.
      expect(new Set([...ids(a), ...ids(b)])).toEqual(new Set(sent.map((t) => t.id)));
      for (const inbox of [a, b]) {
        for (const [, trades] of inbox.byKey()) {
          const order = trades.map((t) => t.ts);
          expect(order).toEqual([...order].sort((x, y) => x - y));
        }
      }
      expect(b.records.length).toBeGreaterThan(0);
    });

    it('keeps records and committed offsets for the next client of the topics', async (context) => {
      const first = await backend.open();
      if (!first.capabilities.durable || !first.capabilities.sharedGroups) return context.skip();
      const group = groupName();
      const before = new Inbox<Trade>();
      await first.subscribe('trades', before.handler, { group });
      await first.publish('trades', [{ key: 'AAPL', value: trade('AAPL', 1) }]);
      await eventually(() => before.records.length >= 1);
      await first.close();
      const second = await backend.open({ sharing: first });
      await second.publish('trades', [{ key: 'AAPL', value: trade('AAPL', 2) }]);
      const after = new Inbox<Trade>();
      await second.subscribe('trades', after.handler, { group, fromBeginning: true });
      await eventually(() => after.records.length >= 1);
      expect(after.values).toEqual([trade('AAPL', 2)]);
    });
  });
}
