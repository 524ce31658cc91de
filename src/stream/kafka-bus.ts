import {
  CompressionTypes,
  Kafka,
  logLevel,
  Partitioners,
  type Admin,
  type Consumer,
  type ConsumerRunConfig,
  type EachBatchPayload,
  type logCreator as logCreatorType,
  type Message,
  type Producer,
  type TopicMessages,
} from 'kafkajs';
import { AlphalakeError, within } from '../domain/index.js';
import {
  TOPICS,
  type BatchHandler,
  type BusCapabilities,
  type BusHealth,
  type BusRecord,
  type OutgoingRecord,
  type PublishOptions,
  type StartOffsets,
  type StreamBus,
  type SubscribeOptions,
  type Topic,
} from './bus.js';
import { corrupt } from './codec-bytes.js';
import { codecFor, decodeMessage, type Encoding, type RecordCodec } from './codec.js';
import { processLogger } from '../logging/index.js';

/** Options of the Kafka bus; src/config fills them from the environment, app.ts passes them. */
export interface KafkaBusOptions {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: readonly string[];
  /** Kafka client id (broker logs and quotas). @default 'alphalake' */
  readonly clientId?: string;
  /** Kafka topic name per bus topic. @default `alphalake.<topic>` */
  readonly topicNames?: Partial<Record<Topic, string>>;
  /** Partitions of each topic the bus creates (existing topics are left as they are). @default 6 */
  readonly partitions?: number;
  /** Replication factor of each topic the bus creates. @default the broker's `default.replication.factor` */
  readonly replicationFactor?: number;
  /** How trades, quotes and bars are written (news and rejects are always JSON). @default 'columnar' */
  readonly encoding?: Encoding;
  /** Most records of one key in one Kafka message; 1 writes a message per record. @default 1000 */
  readonly recordsPerMessage?: number;
  /** Compression of produce requests. @default 'none' */
  readonly compression?: 'none' | 'gzip';
  /**
   * Most bytes in one produce request. All of a partition's messages in a request form one
   * record batch, which the broker refuses above `max.message.bytes` (1 MiB by default).
   * @default 900_000
   */
  readonly batchBytes?: number;
  /** Bytes published and not yet acknowledged; `publish` waits above it. @default 64 MiB */
  readonly maxBufferedBytes?: number;
  /** Records published and not yet acknowledged; `publish` waits above it. @default 2_000_000 */
  readonly maxBufferedRecords?: number;
  /** Pause before a batch whose handler failed is delivered again. @default 1000 */
  readonly retryDelayMs?: number;
  /**
   * Longest pause between two attempts to reach a broker: kafkajs' reconnects and request
   * retries, a crashed consumer's restart (kafkajs waits the last retry's pause) and the
   * producer's resends. Kafka's Java clients cap theirs at 1 s as well
   * (`reconnect.backoff.max.ms`, `retry.backoff.max.ms`); kafkajs' own cap of 30 s left a
   * consumer asleep for up to half a minute after its broker was back.
   * @default 1000
   */
  readonly retryMaxMs?: number;
  /**
   * Consumer group session timeout: a member not heard from for this long is dropped from
   * its group. A consumer whose broker went away cannot leave its group, so after the
   * broker is back its new member waits this long in JoinGroup for the old one to expire
   * (Kafka protocol, JoinGroup/SyncGroup: a rebalance waits for every known member). Kafka
   * allows 6 s to 30 min by default (`group.min.session.timeout.ms`,
   * `group.max.session.timeout.ms`). Heartbeats go every third of it, also while a batch's
   * handler runs, so a slow handler does not cost the member its place.
   * @default 10_000
   */
  readonly sessionTimeoutMs?: number;
  /** kafkajs log level. @default 'error' */
  readonly logLevel?: 'nothing' | 'error' | 'warn' | 'info';
}

type ResolvedOptions = Required<Omit<KafkaBusOptions, 'replicationFactor' | 'topicNames'>> & {
  readonly replicationFactor: number | undefined;
  readonly topicNames: Readonly<Record<Topic, string>>;
};

export const KAFKA_BUS_DEFAULTS = Object.freeze({
  clientId: 'alphalake',
  partitions: 6,
  encoding: 'columnar' as Encoding,
  recordsPerMessage: 1000,
  compression: 'none' as const,
  batchBytes: 900_000,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxBufferedRecords: 2_000_000,
  retryDelayMs: 1000,
  retryMaxMs: 1000,
  sessionTimeoutMs: 10_000,
  logLevel: 'error' as const,
});

/** Bytes Kafka's record format adds to a message beyond its key and value (v2, worst case). */
const MESSAGE_OVERHEAD = 24;

/** Records handed to `publish` and not yet acknowledged by the broker. */
interface Pending {
  readonly topic: string;
  readonly messages: Message[];
  readonly bytes: number;
  readonly records: number;
  resolve(): void;
  reject(error: unknown): void;
}

interface RoomWaiter {
  readonly bytes: number;
  readonly records: number;
  resolve(): void;
  /** The bus closed before there was room. */
  refuse(): void;
}

/**
 * The stream bus on Kafka (kafkajs). Bus topics map to Kafka topics created on connect;
 * the key is the symbol, so one symbol's records share a partition and keep their order.
 *
 * Producing: an idempotent producer (KIP-98: the broker drops a retried duplicate, so a
 * retry never writes a record twice) with acks from all in-sync replicas. `publish`
 * encodes at once, groups records by key into messages of up to `recordsPerMessage`
 * (codec.ts), and queues them; one send is in flight at a time and takes everything
 * queued up to `batchBytes`, so concurrent publishes share requests. Bytes and records
 * queued or in flight are bounded: above the bound `publish` waits (backpressure), and
 * its AbortSignal ends the wait with an UNAVAILABLE error. While a broker is down,
 * sends are retried without end (kafkajs' own retries, then ours with the same sequence
 * numbers), so publishes wait; nothing is dropped.
 *
 * Consuming: a kafkajs consumer per subscription, in the subscription's group, with
 * auto-commit off. The handler gets one partition's batch; only when it resolves is the
 * batch resolved and its next offset committed (OffsetCommit). A failed handler gets the
 * same batch again after `retryDelayMs`. On every assignment the member positions its
 * partitions itself, before delivering: `startOffsets`, else the group's committed offset,
 * else the beginning or the end as of subscribe.
 */
export class KafkaBus implements StreamBus {
  readonly capabilities: BusCapabilities = {
    durable: true,
    sharedGroups: true,
    boundedBuffer: true,
  };
  readonly options: ResolvedOptions;
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private readonly producer: Producer;
  private readonly codecs: Record<Topic, RecordCodec>;
  private readonly subscriptions = new Set<Subscription<unknown>>();
  private readonly queue: Pending[] = [];
  private readonly waiters: RoomWaiter[] = [];
  private bufferedBytes = 0;
  private bufferedRecords = 0;
  private pumping: Promise<void> | undefined;
  private closed = false;

  private constructor(options: KafkaBusOptions) {
    this.options = resolveOptions(options);
    const o = this.options;
    this.kafka = new Kafka({
      clientId: o.clientId,
      brokers: [...options.brokers],
      logLevel: LOG_LEVELS[o.logLevel],
      logCreator,
      // Every client of this Kafka (admin, producer, consumers) reconnects at least every
      // `retryMaxMs`; the attempts still span about 10 s before a request gives up (kafkajs'
      // default patience), after which a consumer restarts within `retryMaxMs`.
      retry: {
        initialRetryTime: Math.min(300, o.retryMaxMs),
        maxRetryTime: o.retryMaxMs,
        retries: Math.max(5, Math.ceil(10_000 / o.retryMaxMs)),
      },
    });
    this.admin = this.kafka.admin();
    this.producer = this.kafka.producer({
      idempotent: true,
      // One request in flight keeps each partition's order without relying on the broker's
      // sequence checks across concurrent requests.
      maxInFlightRequests: 1,
      // Retried without end while the broker is away (publishes wait meanwhile), and at
      // least every `retryMaxMs`, so production resumes soon after the broker is back.
      retry: {
        retries: Number.MAX_SAFE_INTEGER,
        initialRetryTime: Math.min(300, o.retryMaxMs),
        maxRetryTime: o.retryMaxMs,
      },
      allowAutoTopicCreation: false,
      // Murmur2 on the key, as Java clients: a symbol lands on the same partition from any client.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.codecs = Object.fromEntries(
      TOPICS.map((topic) => [topic, codecFor(topic, o.encoding)]),
    ) as Record<Topic, RecordCodec>;
  }

  logName(topic: Topic): string {
    return this.options.topicNames[topic];
  }

  /**
   * Connects, creates the topics that do not exist yet (with the configured partitions and
   * replication factor) and waits for their leaders.
   */
  static async connect(options: KafkaBusOptions): Promise<KafkaBus> {
    const bus = new KafkaBus(options);
    try {
      await bus.admin.connect();
      const existing = new Set(await bus.admin.listTopics());
      const missing = TOPICS.filter((topic) => !existing.has(bus.options.topicNames[topic]));
      // Another client may create them at the same moment: createTopics answers false then.
      // A broker busy with other topics may not know the new ones at first: asked again.
      await retrying(() =>
        bus.admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({
            topic: bus.options.topicNames[topic],
            numPartitions: bus.options.partitions,
            ...(bus.options.replicationFactor === undefined
              ? {}
              : { replicationFactor: bus.options.replicationFactor }),
          })),
        }),
      );
      await bus.producer.connect();
    } catch (error) {
      await bus.close().catch(() => undefined);
      throw new AlphalakeError(
        'UNAVAILABLE',
        `cannot connect the Kafka bus to ${options.brokers.join(',')}: ${(error as Error).message}`,
        { brokers: [...options.brokers] },
        { cause: error },
      );
    }
    return bus;
  }

  /** The Kafka topic behind a bus topic. */
  topicName(topic: Topic): string {
    return this.options.topicNames[topic];
  }

  /** Bytes and records queued or in flight (for metrics and the backpressure bench). */
  buffered(): { bytes: number; records: number } {
    return { bytes: this.bufferedBytes, records: this.bufferedRecords };
  }

  /**
   * Ready when a broker answers a metadata request within `HEALTH_TIMEOUT_MS`; the detail
   * names the brokers and what the producer holds unacknowledged.
   */
  async health(signal?: AbortSignal): Promise<BusHealth> {
    const held = `${this.bufferedRecords} records (${this.bufferedBytes} bytes) awaiting acknowledgement`;
    if (this.closed) return { ready: false, detail: 'Kafka bus: closed' };
    try {
      const cluster = await within(this.admin.describeCluster(), HEALTH_TIMEOUT_MS, signal);
      return {
        ready: true,
        detail: `Kafka: ${cluster.brokers.length} broker(s), controller ${cluster.controller}; ${held}`,
      };
    } catch (error) {
      return {
        ready: false,
        detail: `Kafka at ${this.options.brokers.join(',')} does not answer: ${(error as Error).message}; ${held}`,
      };
    }
  }

  async endOffsets(topic: Topic, signal?: AbortSignal): Promise<StartOffsets> {
    signal?.throwIfAborted();
    const ends = await within(
      this.admin.fetchTopicOffsets(this.options.topicNames[topic]),
      HEALTH_TIMEOUT_MS,
      signal,
    );
    return new Map(ends.map((p) => [p.partition, p.high]));
  }

  async publish<T>(
    topic: Topic,
    records: readonly OutgoingRecord<T>[],
    options: PublishOptions = {},
  ): Promise<void> {
    const { signal } = options;
    if (this.closed) throw closedError(topic);
    if (signal?.aborted) throw abortedBeforeSending(topic, records.length, signal.reason);
    if (records.length === 0) return;
    const messages = this.encode(topic, records);
    let bytes = 0;
    for (const { message } of messages) bytes += messageBytes(message);
    await this.room(topic, bytes, records.length, signal);
    // A large publish is queued in parts of at most `batchBytes`, in order, so no request
    // outgrows what the broker takes; the publish resolves when every part is acknowledged.
    const parts: Promise<void>[] = [];
    let part: Message[] = [];
    let partBytes = 0;
    let partRecords = 0;
    const queuePart = () => {
      const messages = part;
      const [share, counted] = [partBytes, partRecords];
      parts.push(
        new Promise<void>((resolve, reject) => {
          this.queue.push({
            topic: this.options.topicNames[topic],
            messages,
            bytes: share,
            records: counted,
            resolve,
            reject,
          });
        }),
      );
      part = [];
      partBytes = 0;
      partRecords = 0;
    };
    for (const { message, records: count } of messages) {
      const size = messageBytes(message);
      if (part.length > 0 && partBytes + size > this.options.batchBytes) queuePart();
      part.push(message);
      partBytes += size;
      partRecords += count;
    }
    queuePart();
    const delivered = parts.length === 1 ? parts[0]! : Promise.all(parts).then(() => undefined);
    this.pump();
    if (!signal) return delivered;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () =>
        reject(
          new AlphalakeError(
            'UNAVAILABLE',
            `publish to ${topic} aborted while waiting for the broker: its ${records.length} records are queued and may still be delivered`,
            { topic, records: records.length },
            { cause: signal.reason },
          ),
        );
      signal.addEventListener('abort', onAbort, { once: true });
      delivered.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  async subscribe<T>(
    topic: Topic,
    handler: BatchHandler<T>,
    options: SubscribeOptions,
  ): Promise<void> {
    if (this.closed) throw closedError(topic);
    const { signal } = options;
    if (signal?.aborted) return;
    const name = this.options.topicNames[topic];
    const consumer = this.kafka.consumer({
      groupId: kafkaGroupId(options.group, name),
      allowAutoTopicCreation: false,
      // An idle fetch returns after this long; it bounds how long a stop waits for a fetch.
      maxWaitTimeInMs: 500,
      sessionTimeout: this.options.sessionTimeoutMs,
      heartbeatInterval: heartbeatIntervalOf(this.options.sessionTimeoutMs),
    });
    const subscription = new Subscription<T>(
      this,
      consumer,
      topic,
      name,
      handler,
      options,
      this.admin,
    );
    const stop = () => {
      this.subscriptions.delete(subscription as Subscription<unknown>);
      return subscription.stop();
    };
    this.subscriptions.add(subscription as Subscription<unknown>);
    signal?.addEventListener('abort', () => void stop(), { once: true });
    try {
      await subscription.start();
    } catch (error) {
      await stop();
      if (signal?.aborted) return;
      throw new AlphalakeError(
        'UNAVAILABLE',
        `cannot consume ${name} in group ${options.group}: ${(error as Error).message}`,
        { topic: name, group: options.group },
        { cause: error },
      );
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.refuse();
    const subscriptions = [...this.subscriptions];
    this.subscriptions.clear();
    await Promise.all(subscriptions.map((subscription) => subscription.stop()));
    // Queued records are still sent: close waits for them, then disconnects.
    this.pump();
    while (this.pumping) await this.pumping;
    await this.producer.disconnect().catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
  }

  /** Messages of one key each, with how many records each carries. */
  private encode<T>(
    topic: Topic,
    records: readonly OutgoingRecord<T>[],
  ): { message: Message; records: number }[] {
    const codec = this.codecs[topic];
    const perMessage = this.options.recordsPerMessage;
    // Group by key, keeping each key's order: one message holds records of one key only.
    const byKey = new Map<string, T[]>();
    for (const record of records) {
      if (typeof record.key !== 'string') {
        throw new AlphalakeError('BAD_USER_INPUT', `a ${topic} record has no string key`, {
          topic,
        });
      }
      let values = byKey.get(record.key);
      if (!values) byKey.set(record.key, (values = []));
      values.push(record.value);
    }
    const messages: { message: Message; records: number }[] = [];
    for (const [key, values] of byKey) {
      const keyBytes = Buffer.from(key, 'utf8');
      for (let i = 0; i < values.length; i += perMessage) {
        const slice = values.slice(i, i + perMessage);
        messages.push({
          message: { key: keyBytes, value: codec.encode(slice) },
          records: slice.length,
        });
      }
    }
    return messages;
  }

  /**
   * Waits until `bytes` and `records` fit under the bounds, then counts them as buffered
   * (FIFO; a publish larger than the bounds goes alone into an empty buffer).
   */
  private room(
    topic: Topic,
    bytes: number,
    records: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (this.waiters.length === 0 && this.fits(bytes, records)) {
      this.bufferedBytes += bytes;
      this.bufferedRecords += records;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: RoomWaiter = {
        bytes,
        records,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        refuse: () => {
          signal?.removeEventListener('abort', onAbort);
          reject(
            new AlphalakeError(
              'UNAVAILABLE',
              `the Kafka bus closed while a publish to ${topic} waited for room: none of its ${records} records were sent`,
              { topic, records },
            ),
          );
        },
      };
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(
          new AlphalakeError(
            'UNAVAILABLE',
            `publish to ${topic} aborted while the Kafka producer's buffer was full ` +
              `(${this.bufferedBytes} bytes, ${this.bufferedRecords} records buffered; bounds ` +
              `${this.options.maxBufferedBytes} bytes, ${this.options.maxBufferedRecords} records): ` +
              `none of its ${records} records were sent`,
            { topic, records, bufferedBytes: this.bufferedBytes },
            { cause: signal?.reason },
          ),
        );
        this.wake();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private fits(bytes: number, records: number): boolean {
    if (this.bufferedBytes === 0 && this.bufferedRecords === 0) return true;
    return (
      this.bufferedBytes + bytes <= this.options.maxBufferedBytes &&
      this.bufferedRecords + records <= this.options.maxBufferedRecords
    );
  }

  private wake(): void {
    while (this.waiters.length > 0) {
      const next = this.waiters[0]!;
      if (!this.fits(next.bytes, next.records)) return;
      this.waiters.shift();
      // Counted now, before the waiter runs, so the next waiter sees the room it takes.
      this.bufferedBytes += next.bytes;
      this.bufferedRecords += next.records;
      next.resolve();
    }
  }

  /** Sends queued records, one request at a time, until the queue is empty. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = this.send().finally(() => {
      this.pumping = undefined;
      // A publisher woken by the last ack may have queued after the loop looked.
      if (this.queue.length > 0) this.pump();
    });
  }

  private async send(): Promise<void> {
    while (this.queue.length > 0) {
      const batch: Pending[] = [];
      let bytes = 0;
      while (this.queue.length > 0) {
        const next = this.queue[0]!;
        if (batch.length > 0 && bytes + next.bytes > this.options.batchBytes) break;
        batch.push(this.queue.shift()!);
        bytes += next.bytes;
      }
      let failure: unknown;
      for (let attempt = 1; ; attempt++) {
        try {
          await this.producer.sendBatch({
            topicMessages: groupByTopic(batch),
            acks: -1,
            compression: COMPRESSION[this.options.compression],
          });
          failure = undefined;
          break;
        } catch (error) {
          failure = error;
          // kafkajs gives up on a broker it cannot reach after its own retries; the records
          // stay buffered (publishers keep waiting) and go again, with the same producer id
          // and sequence numbers, so the broker drops what it already has (KIP-98).
          if (!isTransient(error) || this.closed) break;
          if (attempt === 1 || attempt % 10 === 0) {
            processLogger().warn(
              `Kafka bus: the broker does not take ${this.bufferedRecords} buffered records ` +
                `(attempt ${attempt}), publishing waits: ${(error as Error).message}`,
            );
          }
          await sleep(Math.min(250 * attempt, this.options.retryMaxMs), undefined);
        }
      }
      // Closing while the broker is away: what is queued cannot wait any longer.
      const abandon = failure !== undefined && this.closed && isTransient(failure);
      if (abandon) batch.push(...this.queue.splice(0));
      for (const pending of batch) {
        this.bufferedBytes -= pending.bytes;
        this.bufferedRecords -= pending.records;
        if (failure === undefined) pending.resolve();
        else {
          const reason = (failure as Error).message;
          pending.reject(
            new AlphalakeError(
              'UNAVAILABLE',
              abandon
                ? `the Kafka bus closed before the broker acknowledged ${pending.records} records for ${pending.topic}; they may not have been delivered: ${reason}`
                : `Kafka refused ${pending.records} records for ${pending.topic}: ${reason}`,
              { topic: pending.topic, records: pending.records },
              { cause: failure },
            ),
          );
        }
      }
      this.wake();
    }
  }
}

/**
 * Decodes one partition's messages into bus records, up to the first message that cannot
 * be decoded: `messages` says how many were, `error` why the next one was not.
 */
function decodeRecords<T>(
  topic: Topic,
  partition: number,
  messages: readonly DecodableMessage[],
): { records: BusRecord<T>[]; messages: number; error?: unknown } {
  const records: BusRecord<T>[] = [];
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    let values: unknown[];
    try {
      // Our producers never write an empty value (a tombstone): it is not ours to skip.
      if (!message.value) throw corrupt(`a message without a value`);
      values = decodeMessage(topic, message.value);
    } catch (error) {
      return { records, messages: i, error };
    }
    const key = message.key ? message.key.toString('utf8') : '';
    for (const value of values) {
      records.push({ topic, partition, offset: message.offset, key, value: value as T });
    }
  }
  return { records, messages: messages.length };
}

interface DecodableMessage {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly offset: string;
}

/**
 * One subscription: a consumer in a group, positioned by us on every assignment, that
 * delivers each partition's batches to the handler and commits after them.
 */
class Subscription<T> {
  /** Settles when the partitions of the latest assignment are positioned. */
  private positioning: Promise<void> = new Promise(() => undefined);
  /** Per partition, the next offset to deliver, when we know it. */
  private readonly expected = new Map<number, bigint>();
  /** Partitions re-sought once because a batch started past their expected offset. */
  private readonly resought = new Set<number>();
  /** End offsets when subscribe was called: where a new group starts unless fromBeginning. */
  private endAtSubscribe: Map<number, string> | undefined;
  /** Offsets handled and not yet committed, by partition; one commit request at a time. */
  private readonly toCommit = new Map<number, string>();
  private committing: Promise<void> | undefined;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  /** Set once the first assignment is positioned: a later crash is ours to restart. */
  private running = false;
  /** Our own restart of a consumer kafkajs gave up on, while it runs. */
  private restarting: Promise<void> | undefined;
  /** The consumer crashed again (its join, say) while we restarted it: try once more. */
  private crashedWhileRestarting = false;

  constructor(
    private readonly bus: KafkaBus,
    private readonly consumer: Consumer,
    private readonly topic: Topic,
    private readonly name: string,
    private readonly handler: BatchHandler<T>,
    private readonly options: SubscribeOptions,
    private readonly admin: Admin,
  ) {}

  async start(): Promise<void> {
    const { consumer, options } = this;
    if (!options.fromBeginning) {
      const ends = await retrying(() => this.admin.fetchTopicOffsets(this.name));
      this.endAtSubscribe = new Map(ends.map((p) => [p.partition, p.high]));
    }
    let joined!: () => void;
    let failed!: (error: unknown) => void;
    const ready = new Promise<void>((resolve, reject) => {
      joined = resolve;
      failed = reject;
    });
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const partitions = [...(event.payload.memberAssignment[this.name] ?? [])].sort(
        (a, b) => a - b,
      );
      this.positioning = this.position(partitions);
      this.positioning.then(joined, failed);
    });
    consumer.on(consumer.events.CRASH, (event) => {
      // A crash kafkajs restarts from (say, the group coordinator still loading on a broker
      // just started) is waited out; subscribe fails only on one it will not restart from.
      if (event.payload.restart) return;
      const { error } = event.payload;
      failed(error);
      if (this.running && !this.stopping && isTransient(error)) {
        if (this.restarting) this.crashedWhileRestarting = true;
        else this.restarting = this.restart(error).finally(() => (this.restarting = undefined));
      } else {
        processLogger().error(
          `stream consumer ${options.group} on ${this.name} stopped for good: ${error.message}`,
        );
      }
    });
    options.signal?.addEventListener('abort', () => joined(), { once: true });
    await consumer.connect();
    await consumer.subscribe({
      topics: [this.name],
      fromBeginning: options.fromBeginning ?? false,
    });
    await consumer.run(this.runConfig());
    await ready;
    this.running = true;
  }

  private runConfig(): ConsumerRunConfig {
    return {
      autoCommit: false,
      eachBatchAutoResolve: false,
      // kafkajs hands one partition's batches over one at a time, in order, in either case.
      partitionsConsumedConcurrently: this.options.concurrentPartitions
        ? this.bus.options.partitions
        : 1,
      eachBatch: (payload) => this.onBatch(payload),
    };
  }

  /**
   * Starts the consumer again after a crash kafkajs does not restart from although it
   * passes: kafkajs restarts only when the crash's root cause is marked retriable, and
   * `KafkaJSGroupCoordinatorNotFound` (no broker answered FindCoordinator, as when the
   * broker is going down or just came back) is not, so the subscription would stay dead
   * with its broker back. Tried every `retryMaxMs` until it runs or the subscription stops.
   */
  private async restart(error: Error): Promise<void> {
    const { group } = this.options;
    processLogger().warn(
      `stream consumer ${group} on ${this.name} crashed and kafkajs does not restart it ` +
        `(${error.message}): restarting it`,
    );
    while (!this.stopping && !this.options.signal?.aborted) {
      await sleep(this.bus.options.retryMaxMs, this.options.signal);
      if (this.stopping || this.options.signal?.aborted) return;
      try {
        this.crashedWhileRestarting = false;
        await this.consumer.connect();
        // kafkajs' run reports a failed join as a crash (the CRASH event) and resolves.
        await this.consumer.run(this.runConfig());
        if (!this.crashedWhileRestarting) return;
      } catch (failure) {
        await this.consumer.disconnect().catch(() => undefined);
        processLogger().warn(
          `stream consumer ${group} on ${this.name}: restart failed, trying again: ${(failure as Error).message}`,
        );
      }
    }
  }

  /**
   * Leaves the group once handled batches are committed. A batch whose handler is running
   * finishes first (kafkajs' stop waits for it) and commits before the member leaves.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      await this.restarting;
      while (this.committing) await this.committing;
      await this.consumer.disconnect().catch(() => undefined);
    })();
    return this.stopped;
  }

  /**
   * Commits `offset` as the next one to read in `partition` (OffsetCommit). Commits leave
   * the delivery path: a batch's handler returns, the next batch goes on while the commit
   * travels, and offsets that pile up meanwhile go in the next request. Committing inline
   * held every batch for a coordinator round trip (p50 28 ms against 2 ms at 10K trades/s,
   * bench/bus-kafka.ts). A commit that fails (the group is rebalancing) is logged and the
   * batches since the last commit are delivered again (at least once).
   */
  private commit(partition: number, offset: string): Promise<void> {
    this.toCommit.set(partition, offset);
    this.committing ??= this.commitLoop().finally(() => (this.committing = undefined));
    return this.committing;
  }

  private async commitLoop(): Promise<void> {
    while (this.toCommit.size > 0) {
      const offsets = [...this.toCommit].map(([partition, offset]) => ({
        topic: this.name,
        partition,
        offset,
      }));
      this.toCommit.clear();
      try {
        await this.consumer.commitOffsets(offsets);
      } catch (error) {
        processLogger().warn(
          `stream consumer ${this.options.group}: committing ${this.name} offsets failed, ` +
            `the batches since the last commit will be delivered again: ${(error as Error).message}`,
        );
      }
    }
  }

  /** Seeks each assigned partition to where this group should read it next. */
  private async position(partitions: readonly number[]): Promise<void> {
    // Our own commits first, so the committed offsets read below include them.
    while (this.committing) await this.committing;
    const handled = new Map(this.expected);
    this.expected.clear();
    this.resought.clear();
    if (partitions.length === 0) return;
    const explicit = (await this.options.startOffsets?.(partitions)) ?? new Map<number, string>();
    const [committed] = await retrying(() =>
      this.admin.fetchOffsets({
        groupId: kafkaGroupId(this.options.group, this.name),
        topics: [this.name],
      }),
    );
    const committedOf = new Map(committed?.partitions.map((p) => [p.partition, p.offset]));
    for (const partition of partitions) {
      const given = explicit.get(partition);
      let groupOffset = committedOf.get(partition);
      // A partition kept across a rebalance resumes after what this member handled, even if
      // its last commit failed; another member's later commit wins if it got further.
      const mine = handled.get(partition);
      if (mine !== undefined && (groupOffset === undefined || BigInt(groupOffset) < mine)) {
        groupOffset = mine.toString();
      }
      let offset: string;
      if (given !== undefined) offset = given;
      else if (groupOffset !== undefined && BigInt(groupOffset) >= 0n) offset = groupOffset;
      else if (this.options.fromBeginning) offset = '-2';
      else offset = this.endAtSubscribe?.get(partition) ?? '-1';
      if (!/^(0|[1-9]\d*|-1|-2)$/.test(offset)) {
        throw new AlphalakeError(
          'BAD_USER_INPUT',
          `start offset ${offset} for ${this.name}[${partition}] is not an offset`,
          { topic: this.name, partition, offset },
        );
      }
      // kafkajs: -2 is the earliest offset, -1 the latest.
      this.consumer.seek({ topic: this.name, partition, offset });
      if (BigInt(offset) >= 0n) this.expected.set(partition, BigInt(offset));
    }
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, isStale, resolveOffset, heartbeat } = payload;
    await this.positioning;
    if (isStale() || this.options.signal?.aborted) return;
    const partition = batch.partition;
    const expected = this.expected.get(partition);
    let messages = batch.messages;
    if (expected !== undefined) {
      // Messages before the position were delivered already (or lie before a seek).
      messages = messages.filter((m) => BigInt(m.offset) >= expected);
      if (messages.length === 0) return;
      if (BigInt(messages[0]!.offset) > expected && !this.resought.has(partition)) {
        // Fetched before our seek took effect: read again from the position, once. A gap
        // that is still there afterwards is the log's own (retention), not ours.
        this.resought.add(partition);
        this.consumer.seek({ topic: this.name, partition, offset: expected.toString() });
        return;
      }
    }
    // Decode up to the first message that cannot be: what precedes it is delivered, and
    // the partition stops at it (logged, retried) rather than skipping it.
    const decoded = decodeRecords<T>(this.topic, partition, messages);
    const handled = messages.slice(0, decoded.messages);
    const first = handled[0];
    const last = handled[handled.length - 1];
    if (first && last) {
      // kafkajs heartbeats only between batches: a handler slower than the session timeout
      // (a speed store that does not answer) would cost the member its place in the group.
      const beat = setInterval(
        () => void heartbeat().catch(() => undefined),
        heartbeatIntervalOf(this.bus.options.sessionTimeoutMs),
      );
      try {
        await this.handler(decoded.records);
      } catch (error) {
        await this.retryFrom(partition, first.offset, error);
        return;
      } finally {
        clearInterval(beat);
      }
      const next = BigInt(last.offset) + 1n;
      this.expected.set(partition, next);
      this.resought.delete(partition);
      resolveOffset(last.offset);
      const committed = this.commit(partition, next.toString());
      if (this.stopping) await committed;
    }
    const poison = messages[decoded.messages];
    if (poison) await this.retryFrom(partition, poison.offset, decoded.error);
    else await heartbeat();
  }

  /** Leaves `offset` unconsumed: logged, then read again after `retryDelayMs`. */
  private async retryFrom(partition: number, offset: string, error: unknown): Promise<void> {
    processLogger().error(
      { err: error },
      `stream consumer ${this.options.group} failed on ${this.name}[${partition}] at ${offset}`,
    );
    await sleep(this.bus.options.retryDelayMs, this.options.signal);
    this.consumer.seek({ topic: this.name, partition, offset });
  }
}

/**
 * How often a member heartbeats: a third of its session timeout, as Kafka advises
 * (`heartbeat.interval.ms`), so two may be lost before the member is.
 */
function heartbeatIntervalOf(sessionTimeoutMs: number): number {
  return Math.max(100, Math.floor(sessionTimeoutMs / 3));
}

/**
 * The Kafka consumer group behind a bus group on one topic. A bus group is per topic (the
 * speed layer reads trades and quotes under one name); in Kafka, members of one group that
 * subscribe to different topics would be handed each other's partitions (kafkajs assigns
 * every subscribed topic's partitions across all members), so each topic gets its own.
 */
export function kafkaGroupId(group: string, topicName: string): string {
  return `${group}.${topicName}`;
}

function messageBytes(message: Message): number {
  return (message.value as Buffer).length + (message.key as Buffer).length + MESSAGE_OVERHEAD;
}

function groupByTopic(batch: readonly Pending[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const pending of batch) {
    let messages = byTopic.get(pending.topic);
    if (!messages) byTopic.set(pending.topic, (messages = []));
    for (const message of pending.messages) messages.push(message);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * kafkajs' log lines, in the process log. A failed request is not logged here: kafkajs retries
 * it, or its error reaches the caller, which says what it means.
 */
const logCreator: logCreatorType =
  () =>
  ({ namespace, label, log }) => {
    const { message, error, retryCount } = log as {
      message: string;
      error?: string;
      retryCount?: number;
    };
    if (namespace === 'Connection' && message.startsWith('Response')) return;
    const line = `kafkajs ${label}: ${message}${error ? ` (${error})` : ''}`;
    // A failure kafkajs is about to retry is a warning; what it gives up on is an error.
    if (label === 'ERROR' && retryCount === undefined) processLogger().error({ namespace }, line);
    else processLogger().warn({ namespace }, line);
  };

const COMPRESSION = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP } as const;

const LOG_LEVELS = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
} as const;

function resolveOptions(options: KafkaBusOptions): ResolvedOptions {
  const bad = (message: string, details: Record<string, unknown> = {}) =>
    new AlphalakeError('BAD_USER_INPUT', `Kafka bus: ${message}`, details);
  if (!Array.isArray(options.brokers) || options.brokers.length === 0) {
    throw bad('at least one broker (host:port) is needed');
  }
  const positive = (name: string, value: unknown) => {
    if (!Number.isSafeInteger(value) || (value as number) < 1) {
      throw bad(`${name} must be a positive integer, got ${String(value)}`, { [name]: value });
    }
    return value as number;
  };
  const topicNames = {} as Record<Topic, string>;
  for (const topic of TOPICS) {
    const name = options.topicNames?.[topic] ?? `alphalake.${topic}`;
    if (!/^[a-zA-Z0-9._-]{1,249}$/.test(name)) {
      throw bad(`topic name ${JSON.stringify(name)} for ${topic} is not a legal Kafka topic name`);
    }
    topicNames[topic] = name;
  }
  if (new Set(Object.values(topicNames)).size !== TOPICS.length) {
    throw bad('two bus topics map to one Kafka topic', { topicNames });
  }
  const d = KAFKA_BUS_DEFAULTS;
  const encoding = options.encoding ?? d.encoding;
  if (encoding !== 'json' && encoding !== 'columnar') throw bad(`unknown encoding ${encoding}`);
  const compression = options.compression ?? d.compression;
  if (!(compression in COMPRESSION)) throw bad(`unknown compression ${compression}`);
  const level = options.logLevel ?? d.logLevel;
  if (!(level in LOG_LEVELS)) throw bad(`unknown log level ${level}`);
  if (options.replicationFactor !== undefined) {
    positive('replicationFactor', options.replicationFactor);
  }
  const retryDelayMs = options.retryDelayMs ?? d.retryDelayMs;
  if (!Number.isFinite(retryDelayMs) || retryDelayMs < 0) throw bad('retryDelayMs must be ≥ 0');
  const retryMaxMs = positive('retryMaxMs', options.retryMaxMs ?? d.retryMaxMs);
  const sessionTimeoutMs = positive(
    'sessionTimeoutMs',
    options.sessionTimeoutMs ?? d.sessionTimeoutMs,
  );
  return Object.freeze({
    brokers: Object.freeze([...options.brokers]),
    clientId: options.clientId ?? d.clientId,
    topicNames: Object.freeze(topicNames),
    partitions: positive('partitions', options.partitions ?? d.partitions),
    replicationFactor: options.replicationFactor,
    encoding,
    recordsPerMessage: positive(
      'recordsPerMessage',
      options.recordsPerMessage ?? d.recordsPerMessage,
    ),
    compression,
    batchBytes: positive('batchBytes', options.batchBytes ?? d.batchBytes),
    maxBufferedBytes: positive('maxBufferedBytes', options.maxBufferedBytes ?? d.maxBufferedBytes),
    maxBufferedRecords: positive(
      'maxBufferedRecords',
      options.maxBufferedRecords ?? d.maxBufferedRecords,
    ),
    retryDelayMs,
    retryMaxMs,
    sessionTimeoutMs,
    logLevel: level,
  });
}

/**
 * Whether a failed send may succeed later: a retriable Kafka error, or a connection that
 * failed, possibly wrapped by kafkajs once its retries ran out.
 */
function isTransient(error: unknown): boolean {
  for (let e = error as { retriable?: boolean; name?: string; cause?: unknown } | undefined; e; ) {
    if (e.retriable === true) return true;
    if (e.name !== undefined && TRANSIENT_ERRORS.has(e.name)) return true;
    e = e.cause as typeof e;
  }
  return false;
}

const TRANSIENT_ERRORS = new Set([
  'KafkaJSConnectionError',
  // Thrown when no broker answered FindCoordinator; kafkajs marks it not retriable.
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSLockTimeout',
  'KafkaJSNumberOfRetriesExceeded',
]);

function closedError(topic: Topic): AlphalakeError {
  return new AlphalakeError('UNAVAILABLE', 'stream bus is closed', { topic });
}

function abortedBeforeSending(topic: Topic, records: number, reason: unknown): AlphalakeError {
  return new AlphalakeError(
    'UNAVAILABLE',
    `publish to ${topic} aborted before it started: none of its ${records} records were published`,
    { topic, records },
    { cause: reason },
  );
}

const HEALTH_TIMEOUT_MS = 3_000;

/**
 * Runs an admin lookup again while Kafka answers with a retriable error (e.g. a new topic's
 * leader not yet known to the broker that answered: NOT_LEADER_OR_FOLLOWER).
 */
async function retrying<T>(lookup: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await lookup();
    } catch (error) {
      if (attempt >= attempts || (error as { retriable?: boolean }).retriable !== true) throw error;
      await sleep(Math.min(50 * 2 ** attempt, 1000), undefined);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
