/**
 * The Kafka bus while its broker is gone: a private Kafka (scripts/services with its own
 * ALPHALAKE_SERVICES_HOME and free ports; the shared broker is never touched) is stopped
 * mid-stream and started again. Publishing holds back within the buffer bound, an aborted
 * wait says nothing of it was sent, and once the broker is back every trade published is
 * consumed exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Trade } from '../../src/domain/index.js';
import { KafkaBus, TOPICS, type KafkaBusOptions, type Topic } from '../../src/stream/index.js';
import { privateServer, type PrivateServer } from '../support/private-services.js';

const T0 = 1_764_547_200_000_000;
const trade = (serial: number): Trade => ({
  symbol: ['AAPL', 'MSFT', 'NVDA'][serial % 3]!,
  ts: T0 + serial * 1_000,
  seq: serial,
  price: 100 + (serial % 1000) / 100,
  size: 1 + (serial % 300),
  id: `fault-${serial}`,
  exchange: 'XNAS',
});

describe('Kafka bus while the broker is gone (private broker)', () => {
  let kafka: PrivateServer | undefined;
  let brokers: string[] = [];

  beforeAll(async () => {
    kafka = await privateServer('kafka', { heap: '384m' });
    brokers = [kafka.address];
    await kafka.up();
  });

  afterAll(async () => {
    await kafka?.remove();
  });

  it('holds publishes within the buffer bound while the broker is down, and loses nothing', async () => {
    const topicNames = Object.fromEntries(TOPICS.map((t) => [t, `fault-${t}`])) as Record<
      Topic,
      string
    >;
    const bound = 16_384;
    const options: KafkaBusOptions = {
      brokers,
      topicNames,
      partitions: 3,
      replicationFactor: 1,
      maxBufferedBytes: bound,
      retryDelayMs: 100,
      logLevel: 'nothing',
    };
    const producer = await KafkaBus.connect(options);
    const consumer = await KafkaBus.connect(options);
    const seen = new Map<string, number>();
    await consumer.subscribe<Trade>(
      'trades',
      async (records) => {
        for (const r of records) seen.set(r.value.id, (seen.get(r.value.id) ?? 0) + 1);
      },
      { group: 'fault', fromBeginning: true },
    );
    let serial = 0;
    const published: string[] = [];
    const round = (signal?: AbortSignal) => {
      const trades = Array.from({ length: 100 }, () => trade(serial++));
      const publish = producer.publish(
        'trades',
        trades.map((t) => ({ key: t.symbol, value: t })),
        { signal },
      );
      return { ids: trades.map((t) => t.id), publish };
    };

    // Before: the broker answers.
    for (let i = 0; i < 10; i++) {
      const { ids, publish } = round();
      await publish;
      published.push(...ids);
    }

    expect((await producer.health()).ready).toBe(true);
    await kafka!.down();
    const down = await producer.health();
    expect(down.ready).toBe(false);
    expect(down.detail).toMatch(/does not answer/);
    const waiting: Promise<void>[] = [];
    let settled = 0;
    let largest = 0;
    // About 15 s without a broker: long enough for the consumer's own retries to give up
    // and restart it, and for the producer's backoff to grow.
    for (let i = 0; i < 75; i++) {
      const { ids, publish } = round();
      published.push(...ids);
      waiting.push(publish.finally(() => settled++));
      await new Promise((resolve) => setTimeout(resolve, 200));
      largest = Math.max(largest, producer.buffered().bytes);
    }
    const stop = new AbortController();
    const abandoned = round(stop.signal);
    stop.abort(new Error('giving up'));
    await expect(abandoned.publish).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/none of its 100 records were sent/),
    });
    // No broker, no acknowledgement: none of the 75 can have completed, and the buffer
    // held at most its bound (one publish of 100 trades is far below 16 KiB).
    expect(settled).toBe(0);
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThanOrEqual(bound);
    expect(producer.buffered().bytes).toBeLessThanOrEqual(bound);

    await kafka!.up();
    await Promise.all(waiting);
    expect((await producer.health()).ready).toBe(true);
    for (let i = 0; i < 10; i++) {
      const { ids, publish } = round();
      await publish;
      published.push(...ids);
    }
    while (seen.size < published.length) await new Promise((r) => setTimeout(r, 50));
    expect([...seen.keys()].sort()).toEqual([...published].sort());
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    expect(abandoned.ids.some((id) => seen.has(id))).toBe(false);
    await consumer.close();
    await producer.close();
  });
});
