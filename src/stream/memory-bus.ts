import { randomUUID } from 'node:crypto';
import { AlphalakeError } from '../domain/index.js';
import type {
  BatchHandler,
  BusCapabilities,
  BusHealth,
  BusRecord,
  OutgoingRecord,
  PublishOptions,
  StartOffsets,
  StreamBus,
  SubscribeOptions,
  Topic,
} from './bus.js';
import { processLogger } from '../logging/index.js';

interface Consumer {
  readonly group: string;
  readonly handler: BatchHandler<unknown>;
  readonly signal: AbortSignal | undefined;
  /** The next offset to deliver. */
  offset: number;
  running: boolean;
}

interface TopicLog {
  /** Offset of records[0]; records consumed by every group are trimmed away. */
  base: number;
  records: BusRecord<unknown>[];
  groups: Map<string, Consumer>;
  /** Offsets committed by groups that are not consuming now, kept for their next subscribe. */
  committed: Map<string, number>;
}

const MAX_BATCH = 5_000;
const UNCONSUMED_LIMIT = 100_000;
const RETAINED_TAIL = 10_000;

/**
 * In-process bus: one partition per topic, an append-only log per topic trimmed once
 * every group has consumed it, delivery in batches on the microtask queue. A group's
 * offset outlives its subscription (until the process ends), as a committed offset does.
 */
export class MemoryBus implements StreamBus {
  readonly capabilities: BusCapabilities = {
    durable: false,
    sharedGroups: false,
    boundedBuffer: false,
  };
  private readonly topics = new Map<Topic, TopicLog>();
  private readonly incarnation = randomUUID();
  private closed = false;

  logName(topic: Topic): string {
    return `memory-${this.incarnation}.${topic}`;
  }

  async health(): Promise<BusHealth> {
    return this.closed
      ? { ready: false, detail: 'in-process bus: closed' }
      : { ready: true, detail: `in-process bus: ${this.topics.size} topics in use` };
  }

  async publish<T>(
    topic: Topic,
    records: readonly OutgoingRecord<T>[],
    options: PublishOptions = {},
  ): Promise<void> {
    if (this.closed) throw new AlphalakeError('UNAVAILABLE', 'stream bus is closed', { topic });
    if (options.signal?.aborted) {
      throw new AlphalakeError(
        'UNAVAILABLE',
        `publish to ${topic} aborted before it started: none of its ${records.length} records were published`,
        { topic, records: records.length },
        { cause: options.signal.reason },
      );
    }
    const log = this.log(topic);
    for (const record of records) {
      log.records.push({
        topic,
        partition: 0,
        offset: String(log.base + log.records.length),
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

  async endOffsets(topic: Topic): Promise<StartOffsets> {
    const log = this.log(topic);
    return new Map([[0, String(log.base + log.records.length)]]);
  }

  async subscribe<T>(
    topic: Topic,
    handler: BatchHandler<T>,
    options: SubscribeOptions,
  ): Promise<void> {
    if (this.closed) throw new AlphalakeError('UNAVAILABLE', 'stream bus is closed', { topic });
    const log = this.log(topic);
    if (log.groups.has(options.group)) {
      throw new AlphalakeError(
        'CONFLICT',
        `group ${options.group} already consumes ${topic} in this process`,
        { topic, group: options.group },
      );
    }
    const end = log.base + log.records.length;
    let offset = log.committed.get(options.group) ?? (options.fromBeginning ? log.base : end);
    const start = (await options.startOffsets?.([0]))?.get(0);
    if (start !== undefined) offset = Number(BigInt(start));
    // Records before `base` were trimmed: an in-process bus cannot go back further.
    offset = Math.min(Math.max(offset, log.base), end);
    const consumer: Consumer = {
      group: options.group,
      handler: handler as BatchHandler<unknown>,
      signal: options.signal,
      offset,
      running: false,
    };
    if (options.signal?.aborted) return;
    log.groups.set(options.group, consumer);
    options.signal?.addEventListener('abort', () => this.leave(log, consumer), { once: true });
    this.drain(log, consumer);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const log of this.topics.values()) log.groups.clear();
  }

  private leave(log: TopicLog, consumer: Consumer): void {
    if (log.groups.get(consumer.group) !== consumer) return;
    log.groups.delete(consumer.group);
    log.committed.set(consumer.group, consumer.offset);
  }

  private log(topic: Topic): TopicLog {
    let log = this.topics.get(topic);
    if (!log) {
      log = { base: 0, records: [], groups: new Map(), committed: new Map() };
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
            processLogger().error({ err: error, topic: batch[0]?.topic }, 'stream consumer failed');
            break;
          }
          if (consumer.signal?.aborted) {
            // Left while the handler ran: the batch still counts, as a commit after it would.
            log.committed.set(consumer.group, consumer.offset + batch.length);
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
    // A group that left holds back trimming, but only for a bounded tail (as Kafka's retention).
    const end = log.base + log.records.length;
    for (const offset of log.committed.values()) {
      lowest = Math.min(lowest, Math.max(offset, end - UNCONSUMED_LIMIT));
    }
    const drop = lowest - log.base - RETAINED_TAIL;
    // Keep a consumed tail so a group that starts from the beginning still finds recent records.
    if (drop > RETAINED_TAIL) {
      log.records.splice(0, drop);
      log.base += drop;
    }
  }
}
