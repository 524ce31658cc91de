/**
 * The stream bus port: topics of keyed records, consumer groups with committed
 * offsets. The in-process adapter (memory-bus.ts) is the embedded default; Kafka
 * (a later adapter beside it) is the distributed one. Keys are symbols, so one
 * symbol's records keep their order.
 */
export type Topic = 'trades' | 'quotes' | 'rejects' | 'news';

export interface OutgoingRecord<T> {
  readonly key: string;
  readonly value: T;
}

export interface BusRecord<T> extends OutgoingRecord<T> {
  readonly topic: Topic;
  readonly partition: number;
  readonly offset: number;
}

/** Called with records in offset order; the batch counts as consumed when it resolves. */
export type BatchHandler<T> = (records: readonly BusRecord<T>[]) => Promise<void>;

export interface SubscribeOptions {
  /** Consumer group: each group sees every record once; members share partitions. */
  readonly group: string;
  /** Where a group with no committed offset starts. */
  readonly fromBeginning?: boolean;
  readonly signal?: AbortSignal;
}

export interface BusCapabilities {
  /** Survives a process restart (Kafka) or not (in-process). */
  readonly durable: boolean;
}

export interface StreamBus {
  readonly capabilities: BusCapabilities;
  publish<T>(topic: Topic, records: readonly OutgoingRecord<T>[]): Promise<void>;
  /** Starts delivering to `handler` until the signal aborts or the bus closes. */
  subscribe<T>(topic: Topic, handler: BatchHandler<T>, options: SubscribeOptions): Promise<void>;
  close(): Promise<void>;
}
