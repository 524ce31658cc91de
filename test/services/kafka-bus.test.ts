import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Trade } from '../../src/domain/index.js';
import { KafkaBus, TOPICS, type Topic } from '../../src/stream/index.js';
import { describeBusContract, kafkaBackend, type BusBackend } from '../contracts/bus.js';
import { endpoints, requireService } from './endpoints.js';

// The bus contract on the real Kafka; the in-process bus runs it in test/unit/stream/bus.test.ts.
const BACKENDS: BusBackend[] = [kafkaBackend(() => endpoints.kafkaBrokers)];

beforeAll(() => requireService('kafka'));

for (const backend of BACKENDS) describeBusContract(backend);

describe('Kafka bus: a message it cannot decode', () => {
  it('stops its partition with SCHEMA_MISMATCH, after delivering what came before', async () => {
    const run = randomUUID().slice(0, 8);
    const topicNames = Object.fromEntries(TOPICS.map((t) => [t, `poison-${run}-${t}`])) as Record<
      Topic,
      string
    >;
    let bus: KafkaBus | undefined;
    const kafka = new Kafka({ brokers: [...endpoints.kafkaBrokers], logLevel: logLevel.NOTHING });
    const foreign = kafka.producer();
    const errors: string[] = [];
    const quiet = console.error;
    console.error = (...args: unknown[]) => {
      errors.push(
        args
          .map((a) =>
            a instanceof Error ? `${a.message} ${(a as { code?: string }).code}` : String(a),
          )
          .join(' '),
      );
    };
    try {
      bus = await KafkaBus.connect({
        brokers: [...endpoints.kafkaBrokers],
        topicNames,
        partitions: 1,
        replicationFactor: 1,
        retryDelayMs: 50,
      });
      const trade: Trade = {
        symbol: 'AAPL',
        ts: 1_764_547_200_123_456,
        seq: 1,
        price: 187.23,
        size: 100,
        id: 'p-1',
        exchange: 'XNAS',
      };
      await bus.publish('trades', [{ key: 'AAPL', value: trade }]);
      // Another producer writes bytes that are no bus encoding into the topic.
      await foreign.connect();
      await foreign.send({
        topic: topicNames.trades,
        messages: [{ key: 'AAPL', value: 'not ours' }],
      });
      await bus.publish('trades', [{ key: 'AAPL', value: { ...trade, id: 'p-2' } }]);
      const seen: Trade[] = [];
      await bus.subscribe<Trade>(
        'trades',
        async (records) => void seen.push(...records.map((r) => r.value)),
        {
          group: `poison-${run}`,
          fromBeginning: true,
        },
      );
      while (!errors.some((e) => e.includes('SCHEMA_MISMATCH'))) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(seen).toEqual([trade]);
      expect(errors.find((e) => e.includes('SCHEMA_MISMATCH'))).toMatch(
        new RegExp(`${topicNames.trades}\\[0\\] at 1:.*unknown format byte`),
      );
    } finally {
      console.error = quiet;
      await foreign.disconnect();
      await bus?.close();
      const admin = kafka.admin();
      await admin.connect();
      const existing = new Set(await admin.listTopics());
      const topics = Object.values(topicNames).filter((t) => existing.has(t));
      if (topics.length > 0) await admin.deleteTopics({ topics });
      await admin.disconnect();
    }
  });
});
