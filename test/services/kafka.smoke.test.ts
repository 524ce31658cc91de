import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { Consumer, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints, requireService } from './endpoints.js';

describe('Kafka (services tier)', () => {
  const kafka = new Kafka({
    clientId: 'alphalake-smoke',
    brokers: [...endpoints.kafkaBrokers],
    logLevel: logLevel.WARN,
  });
  const topic = `smoke-trades-${randomUUID()}`;
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;

  beforeAll(async () => {
    await requireService('kafka');
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
  });

  it('produces keyed records and consumes them in a consumer group', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });

    producer = kafka.producer({ idempotent: true });
    await producer.connect();
    const sent = ['AAPL', 'MSFT', 'AAPL'].map((symbol, i) => ({
      key: symbol,
      value: JSON.stringify({ symbol, price: 100 + i, seq: i }),
    }));
    await producer.send({ topic, messages: sent });

    const groupId = `smoke-group-${randomUUID()}`;
    consumer = kafka.consumer({ groupId, sessionTimeout: 10_000 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: { key: string; seq: number; partition: number }[] = [];
    const allReceived = new Promise<void>((resolve) => {
      void consumer?.run({
        eachMessage: async ({ message, partition }) => {
          const value = JSON.parse(message.value?.toString() ?? '{}') as { seq: number };
          received.push({ key: message.key?.toString() ?? '', seq: value.seq, partition });
          if (received.length === sent.length) resolve();
        },
      });
    });
    await allReceived;

    expect(received.map((r) => r.seq).sort()).toEqual([0, 1, 2]);
    // Same key, same partition: a symbol's ticks stay in order.
    const aapl = received.filter((r) => r.key === 'AAPL');
    expect(new Set(aapl.map((r) => r.partition)).size).toBe(1);
    expect(aapl.map((r) => r.seq)).toEqual([0, 2]);

    await consumer.stop();
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = offsets[0]?.partitions.reduce(
      (sum, p) => sum + Math.max(0, Number(p.offset)),
      0,
    );
    expect(committed).toBe(sent.length);
    const groups = await admin.listGroups();
    expect(groups.groups.map((g) => g.groupId)).toContain(groupId);
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });
});
