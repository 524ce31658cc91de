import {
  SECOND_US,
  validateBar,
  validateQuote,
  validateTrade,
  type Bar,
  type Clock,
  type IngestReason,
  type NewsItem,
  type Quote,
  type RejectReason,
  type Trade,
  type ValidationContext,
  type VendorBar,
} from '../domain/index.js';
import type { SymbolDirectory } from '../mdm/index.js';
import type { Counter } from '../metrics/index.js';
import type { StreamBus } from '../stream/index.js';
import { correctionOutcome } from './validation/corrections.js';
import { TradeDeduper } from './validation/dedupe.js';
import type { SourceRecord } from './source.js';

/** A record kept out of the lake, with its reason: it lands in `bronze.rejects`. */
export interface Reject {
  readonly source: string;
  /** The record's kind, or `row` for what could not be read as any record. */
  readonly kind: 'trade' | 'quote' | 'bar' | 'news' | 'row';
  readonly reason: RejectReason | IngestReason;
  /** The record as received: the raw row when the source has it (a file's line), else its JSON. */
  readonly payload: string;
  /** Wall-clock time of the rejection, epoch µs. */
  readonly receivedAt: number;
  /** What exactly was wrong, when the reason alone does not say (a malformed row's column). */
  readonly detail?: string;
}

export interface IngestResult {
  readonly accepted: number;
  readonly rejected: number;
}

/** What a source hands over in one go. */
export interface MarketBatch {
  readonly trades: readonly Trade[];
  readonly quotes: readonly Quote[];
}

/** The records of a source batch that passed, and everything kept out with its reason. */
export interface CheckedRecords {
  readonly trades: readonly Trade[];
  readonly quotes: readonly Quote[];
  readonly bars: readonly Bar[];
  readonly news: readonly NewsItem[];
  readonly rejects: readonly Reject[];
}

export interface IngestorOptions {
  /** Counts records by source, kind and outcome (accepted | rejected). */
  readonly records?: Counter;
  /** Counts rejects by source, kind and reason (duplicates included, as `DUPLICATE`). */
  readonly rejects?: Counter;
  /** How far ahead of the clock an event time may be, µs. */
  readonly futureToleranceUs?: number;
  /** How many recent trade ids the duplicate check remembers (TradeDeduper). */
  readonly dedupeCapacity?: number;
}

/** Validates what sources produce and publishes it: good records to their topic, bad ones to `rejects`. */
export class Ingestor {
  private readonly options: IngestorOptions;
  private readonly deduper: TradeDeduper;

  constructor(
    private readonly bus: StreamBus,
    private readonly directory: SymbolDirectory,
    private readonly clock: Clock,
    /** The record counter, or the options. */
    options?: Counter | IngestorOptions,
    /** How far ahead of the clock an event time may be, µs. */
    futureToleranceUs?: number,
  ) {
    const base: IngestorOptions =
      options === undefined ? {} : 'inc' in options ? { records: options } : options;
    this.options = {
      ...base,
      futureToleranceUs: futureToleranceUs ?? base.futureToleranceUs ?? 5 * SECOND_US,
    };
    // 24 bytes a key in typed arrays (a 128-bit hash and its index slot): 500,000 keys, 12 MB.
    this.deduper = new TradeDeduper(base.dedupeCapacity ?? 500_000);
  }

  /** Bytes the duplicate window holds, allocated whole when the ingestor is made. */
  get duplicateWindowBytes(): number {
    return this.deduper.bytes;
  }

  private context(range?: ValidationContext['range']): ValidationContext {
    return {
      isKnownSymbol: (symbol: string) => this.directory.isKnown(symbol),
      now: this.clock.now(),
      futureToleranceUs: this.options.futureToleranceUs!,
      ...(range ? { range } : {}),
    };
  }

  /** Splits a batch into valid records and rejects, without publishing. */
  check(batch: MarketBatch, source: string): MarketBatch & { rejects: Reject[] } {
    const checked = this.checkRecords(
      [
        ...batch.trades.map((value) => ({ kind: 'trade' as const, value })),
        ...batch.quotes.map((value) => ({ kind: 'quote' as const, value })),
      ],
      source,
    );
    return { trades: checked.trades, quotes: checked.quotes, rejects: [...checked.rejects] };
  }

  /**
   * Splits a source's records into what passes and what is kept out, without publishing:
   * malformed rows (`MALFORMED_ROW`), trades a correction indicator withdraws
   * (src/ingest/validation/corrections.ts), repeated trades (`DUPLICATE`, by source, symbol and id)
   * and records that break a domain rule. `range` rejects event times outside [from, to).
   */
  checkRecords(
    records: readonly SourceRecord[],
    source: string,
    options: { range?: ValidationContext['range'] } = {},
  ): CheckedRecords {
    const context = this.context(options.range);
    const now = context.now;
    const trades: Trade[] = [];
    const quotes: Quote[] = [];
    const bars: Bar[] = [];
    const news: NewsItem[] = [];
    const rejects: Reject[] = [];
    const reject = (
      kind: Reject['kind'],
      reason: Reject['reason'],
      record: unknown,
      detail?: string,
    ) =>
      rejects.push({
        source,
        kind,
        reason,
        payload: typeof record === 'string' ? record : payloadOf(record),
        receivedAt: now,
        ...(detail === undefined ? {} : { detail }),
      });
    for (const record of records) {
      switch (record.kind) {
        case 'trade': {
          const trade = record.value;
          const outcome = correctionOutcome(record.correction);
          if (outcome !== 'ingest') {
            reject('trade', outcome, record.raw ?? trade, `correction ${record.correction}`);
            break;
          }
          const reason = validateTrade(trade, context);
          if (reason) reject('trade', reason, record.raw ?? trade);
          else if (this.deduper.isDuplicate(source, trade.symbol, trade.id))
            reject('trade', 'DUPLICATE', record.raw ?? trade);
          else trades.push(trade);
          break;
        }
        case 'quote': {
          const reason = validateQuote(record.value, context);
          if (reason) reject('quote', reason, record.raw ?? record.value);
          else quotes.push(record.value);
          break;
        }
        case 'bar': {
          const reason = validateBar(record.value, context);
          if (reason) reject('bar', reason, record.raw ?? record.value);
          else bars.push(record.value);
          break;
        }
        case 'news':
          news.push(record.value);
          break;
        case 'corporate-action':
          // Corporate actions belong to master data (mdm11): not this path's to publish.
          break;
        case 'malformed':
          reject(
            'row',
            'MALFORMED_ROW',
            record.raw,
            record.column ? `${record.column}: ${record.detail}` : record.detail,
          );
          break;
      }
    }
    this.count(source, { trades, quotes, bars, news, rejects });
    return { trades, quotes, bars, news, rejects };
  }

  /**
   * Teaches the duplicate check the trades of rows already committed (a resumed backfill
   * re-reads the rows just before where it resumes), without counting or publishing them.
   */
  remember(records: readonly SourceRecord[], source: string): void {
    const context = this.context();
    for (const record of records) {
      if (record.kind !== 'trade' || correctionOutcome(record.correction) !== 'ingest') continue;
      if (validateTrade(record.value, context) === undefined)
        this.deduper.isDuplicate(source, record.value.symbol, record.value.id);
    }
  }

  private count(source: string, checked: CheckedRecords): void {
    const { records, rejects } = this.options;
    if (records) {
      records.inc({ source, kind: 'trade', outcome: 'accepted' }, checked.trades.length);
      records.inc({ source, kind: 'quote', outcome: 'accepted' }, checked.quotes.length);
      if (checked.bars.length > 0)
        records.inc({ source, kind: 'bar', outcome: 'accepted' }, checked.bars.length);
      if (checked.news.length > 0)
        records.inc({ source, kind: 'news', outcome: 'accepted' }, checked.news.length);
      for (const r of checked.rejects) records.inc({ source, kind: r.kind, outcome: 'rejected' });
    }
    if (rejects) {
      for (const r of checked.rejects) rejects.inc({ source, kind: r.kind, reason: r.reason });
    }
  }

  async ingest(batch: MarketBatch, source: string): Promise<IngestResult> {
    if (this.directory.admitUnknown) {
      const unknown = new Set<string>();
      const note = (symbol: unknown) => {
        if (typeof symbol === 'string' && !this.directory.isKnown(symbol)) unknown.add(symbol);
      };
      for (const trade of batch.trades) note(trade.symbol);
      for (const quote of batch.quotes) note(quote.symbol);
      if (unknown.size > 0) await this.directory.admitUnknown([...unknown], `ingest:${source}`);
    }
    const { trades, quotes, rejects } = this.check(batch, source);
    await this.publish({ trades, quotes, bars: [], news: [], rejects }, source);
    return { accepted: trades.length + quotes.length, rejected: rejects.length };
  }

  /** Checks a source's records (checkRecords) and publishes each kind to its topic. */
  async ingestRecords(
    records: readonly SourceRecord[],
    source: string,
    options: { range?: ValidationContext['range']; signal?: AbortSignal } = {},
  ): Promise<CheckedRecords> {
    const checked = this.checkRecords(records, source, options);
    await this.publish(checked, source, options.signal);
    return checked;
  }

  /** Publishes records checked already (`checkRecords`) to their topics. */
  publishChecked(checked: CheckedRecords, source: string, signal?: AbortSignal): Promise<void> {
    return this.publish(checked, source, signal);
  }

  /** Bars go out as `VendorBar`s, with the source that delivered them (bronze.vendor_bars keeps it). */
  private async publish(
    checked: CheckedRecords,
    source: string,
    signal?: AbortSignal,
  ): Promise<void> {
    const options = signal ? { signal } : {};
    const keyed = <T extends { symbol: string }>(values: readonly T[]) =>
      values.map((value) => ({ key: value.symbol, value }));
    await this.bus.publish('trades', keyed(checked.trades), options);
    await this.bus.publish('quotes', keyed(checked.quotes), options);
    if (checked.bars.length > 0) {
      const bars: VendorBar[] = checked.bars.map((bar) => ({ ...bar, source }));
      await this.bus.publish('bars', keyed(bars), options);
    }
    if (checked.news.length > 0) {
      await this.bus.publish(
        'news',
        checked.news.map((value) => ({ key: value.id, value })),
        options,
      );
    }
    if (checked.rejects.length > 0) {
      await this.bus.publish(
        'rejects',
        checked.rejects.map((value) => ({ key: value.source, value })),
        options,
      );
    }
  }
}

/** JSON of a record for `bronze.rejects.payload`; a bigint (`tsNanos`) as its decimal digits. */
export function payloadOf(value: unknown): string {
  try {
    return (
      JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ??
      String(value)
    );
  } catch {
    return String(value);
  }
}
