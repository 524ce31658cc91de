import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Trade } from '../../src/domain/index.js';
import { processLogger, setProcessLogger } from '../../src/logging/index.js';
import { KafkaBus, TOPICS, type Topic } from '../../src/stream/index.js';
import { describeBusContract, kafkaBackend, type BusBackend } from '../contracts/bus.js';
import { capturedLogger } from '../support/log-capture.js';
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
    // The bus reports a consumer's failure in the process log: read it from there.
    const logs = capturedLogger();
    const previous = processLogger();
    setProcessLogger(logs.logger);
    const failures = () =>
      logs
        .text()
        .split('\n')
        .filter((line) => line.includes('SCHEMA_MISMATCH'))
        .map((line) => JSON.parse(line) as { msg: string; err: { code: string; message: string } });
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
      while (failures().length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(seen).toEqual([trade]);
      const [failure] = failures();
      expect(failure!.msg).toContain(`${topicNames.trades}[0] at 1`);
      expect(failure!.err.code).toBe('SCHEMA_MISMATCH');
      expect(failure!.err.message).toMatch(/unknown format byte/);
    } finally {
      setProcessLogger(previous);
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
