import type {
  BatchHandler,
  BusCapabilities,
  BusRecord,
  OutgoingRecord,
  StreamBus,
  SubscribeOptions,
  Topic,
} from './bus.js';

interface Consumer {
  readonly handler: BatchHandler<unknown>;
  readonly signal: AbortSignal | undefined;
  offset: number;
  running: boolean;
}

interface TopicLog {
  /** Offset of records[0]; records consumed by every group are trimmed away. */
  base: number;
  records: BusRecord<unknown>[];
  groups: Map<string, Consumer>;
}

const MAX_BATCH = 5_000;
const UNCONSUMED_LIMIT = 100_000;
const RETAINED_TAIL = 10_000;

/**
 * In-process bus: one partition per topic, an append-only log per topic trimmed once
 * every group has consumed it, delivery in batches on the microtask queue.
 */
export class MemoryBus implements StreamBus {
  readonly capabilities: BusCapabilities = { durable: false };
  private readonly topics = new Map<Topic, TopicLog>();
  private closed = false;

  async publish<T>(topic: Topic, records: readonly OutgoingRecord<T>[]): Promise<void> {
    if (this.closed) throw new Error('stream bus is closed');
    const log = this.log(topic);
    for (const record of records) {
      log.records.push({
        topic,
        partition: 0,
        offset: log.base + log.records.length,
        key: record.key,
        value: record.value,
      });
    }
    for (const consumer of log.groups.values()) this.drain(log, consumer);
    if (log.groups.size === 0 && log.records.length > UNCONSUMED_LIMIT) {
      // Nobody reads this topic: an in-process bus is not durable, keep a bounded tail.
      const drop = log.records.length - UNCONSUMED_LIMIT;
      log.records.splice(0, drop);
      log.base += drop;
    }
  }

  async subscribe<T>(
    topic: Topic,
    handler: BatchHandler<T>,
    options: SubscribeOptions,
  ): Promise<void> {
    const log = this.log(topic);
    if (log.groups.has(options.group)) {
      throw new Error(`group ${options.group} already consumes ${topic} in this process`);
    }
    const consumer: Consumer = {
      handler: handler as BatchHandler<unknown>,
      signal: options.signal,
      offset: options.fromBeginning ? log.base : log.base + log.records.length,
      running: false,
    };
    log.groups.set(options.group, consumer);
    options.signal?.addEventListener('abort', () => log.groups.delete(options.group), {
      once: true,
    });
    this.drain(log, consumer);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const log of this.topics.values()) log.groups.clear();
  }

  private log(topic: Topic): TopicLog {
    let log = this.topics.get(topic);
    if (!log) {
      log = { base: 0, records: [], groups: new Map() };
      this.topics.set(topic, log);
    }
    return log;
  }

  private drain(log: TopicLog, consumer: Consumer): void {
    if (consumer.running) return;
    consumer.running = true;
    queueMicrotask(async () => {
      try {
        while (!consumer.signal?.aborted && !this.closed) {
          const start = consumer.offset - log.base;
          if (start >= log.records.length) break;
          const batch = log.records.slice(start, start + MAX_BATCH);
          try {
            await consumer.handler(batch);
          } catch (error) {
            // The batch stays unconsumed; the consumer retries it on the next publish.
            console.error(`stream consumer failed on ${batch[0]?.topic}:`, error);
            break;
          }
          consumer.offset += batch.length;
          this.trim(log);
        }
      } finally {
        consumer.running = false;
      }
    });
  }

  private trim(log: TopicLog): void {
    let lowest = log.base + log.records.length;
    for (const consumer of log.groups.values()) lowest = Math.min(lowest, consumer.offset);
    const drop = lowest - log.base - RETAINED_TAIL;
    // Keep a consumed tail so a group that starts from the beginning still finds recent records.
    if (drop > RETAINED_TAIL) {
      log.records.splice(0, drop);
      log.base += drop;
    }
  }
}
