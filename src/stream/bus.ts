/**
 * The stream bus port: topics of keyed records, consumer groups with committed
 * offsets. The in-process adapter (memory-bus.ts) is the embedded default; Kafka
 * (kafka-bus.ts) is the distributed one. Both pass one contract suite
 * (test/contracts/bus.ts). Keys are symbols, so one symbol's records keep their order.
 */
export type Topic = 'trades' | 'quotes' | 'bars' | 'news' | 'rejects';

export const TOPICS: readonly Topic[] = Object.freeze([
  'trades',
  'quotes',
  'bars',
  'news',
  'rejects',
]);

/**
 * A position in one partition: a non-negative int64 as a decimal string, as Kafka
 * numbers its log (a `number` would lose precision past 2^53).
 */
export type Offset = string;

export interface OutgoingRecord<T> {
  readonly key: string;
  readonly value: T;
}

export interface BusRecord<T> extends OutgoingRecord<T> {
  readonly topic: Topic;
  readonly partition: number;
  /**
   * The offset of the message that carried this record. A batched encoding carries
   * several records of one key in one message, so they share an offset; a handler
   * always receives every record of an offset together, so resuming at
   * `nextOffset(lastHandled.offset)` neither skips nor repeats a record.
   */
  readonly offset: Offset;
}

/**
 * Called with one partition's records in offset order. The batch counts as consumed
 * only when the promise resolves; the group's offset is committed after that. A
 * rejected promise leaves the batch unconsumed and it is delivered again.
 */
export type BatchHandler<T> = (records: readonly BusRecord<T>[]) => Promise<void>;

/** Where to start reading each given partition: the next offset to deliver. */
export type StartOffsets = ReadonlyMap<number, Offset>;

export interface SubscribeOptions {
  /** Consumer group: each group sees every record once; members share partitions. */
  readonly group: string;
  /** Where a group with no committed offset starts: the beginning, or else the end as of subscribe. */
  readonly fromBeginning?: boolean;
  /**
   * Called whenever partitions are assigned to this member (at start and after every
   * rebalance), before any of their records is delivered. Partitions in the answer start
   * at the given offsets, whatever the group committed; the others start at the group's
   * committed offset. An exactly-once sink answers with the offsets its own table holds.
   */
  readonly startOffsets?: (partitions: readonly number[]) => Promise<StartOffsets>;
  /**
   * The handler may run for several partitions at once (each partition's batches still
   * one at a time, in offset order). Without it one partition's handler waits for
   * another's: with a handler that waits on I/O (the speed layer writing the speed store)
   * the partitions' waits add up in every record's latency (bench/subscription-latency.ts).
   * The in-process bus has one partition per topic and ignores it.
   */
  readonly concurrentPartitions?: boolean;
  readonly signal?: AbortSignal;
}

export interface PublishOptions {
  /** Ends a publish that waits for room in a full buffer, with an UNAVAILABLE error. */
  readonly signal?: AbortSignal;
}

export interface BusCapabilities {
  /** Survives a process restart (Kafka) or not (in-process). */
  readonly durable: boolean;
  /** Members of one group in separate processes divide the partitions between them. */
  readonly sharedGroups: boolean;
  /**
   * Publishing waits while a bounded buffer is full (Kafka's producer). The in-process bus
   * hands records straight to its log and never waits.
   */
  readonly boundedBuffer: boolean;
}

/** What `/readyz` shows for the bus. */
export interface BusHealth {
  readonly ready: boolean;
  /** One line: what answered, or why not. */
  readonly detail: string;
}

export interface StreamBus {
  readonly capabilities: BusCapabilities;
  /**
   * The name of the log behind `topic`, whose offsets a consumer records: Kafka's topic
   * name; for the in-process bus a name unique to this bus, since its offsets start again
   * at 0 in every process. An exactly-once sink keys its recorded offsets by it.
   */
  logName(topic: Topic): string;
  /** Whether the bus can take and deliver records now (Kafka: a broker answers metadata). */
  health(signal?: AbortSignal): Promise<BusHealth>;
  /**
   * Resolves once the records are stored by the bus (on Kafka: acknowledged by all
   * in-sync replicas). A bus whose buffer is full makes the caller wait; nothing is
   * dropped. Records with one key keep their order.
   */
  publish<T>(
    topic: Topic,
    records: readonly OutgoingRecord<T>[],
    options?: PublishOptions,
  ): Promise<void>;
  /**
   * Starts delivering to `handler` until the signal aborts or the bus closes. Resolves
   * once this member has its partitions and their start offsets: a record published
   * after that is delivered to the group.
   */
  subscribe<T>(topic: Topic, handler: BatchHandler<T>, options: SubscribeOptions): Promise<void>;
  /**
   * Per partition of `topic`, the offset the next record published to it will get (Kafka's
   * high watermark): a consumer that has handled everything below these offsets has seen
   * every record stored when this was called. A producer that resumes after a crash waits
   * for its sink to get there before asking the lake what it holds (docs/ingest.md).
   */
  endOffsets(topic: Topic, signal?: AbortSignal): Promise<StartOffsets>;
  close(): Promise<void>;
}

/** The offset after `offset`: where a consumer resumes once `offset` is handled. */
export function nextOffset(offset: Offset): Offset {
  return (BigInt(offset) + 1n).toString();
}
