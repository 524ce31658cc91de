import {
  SECOND_US,
  validateQuote,
  validateTrade,
  type Clock,
  type Quote,
  type RejectReason,
  type Trade,
} from '../domain/index.js';
import type { SymbolDirectory } from '../mdm/index.js';
import type { Counter } from '../metrics/index.js';
import type { StreamBus } from '../stream/index.js';

/** A record that broke a domain rule, kept with its reason: it lands in `bronze.rejects`. */
export interface Reject {
  readonly source: string;
  readonly kind: 'trade' | 'quote';
  readonly reason: RejectReason | 'LATE_EVENT';
  /** The record as received, JSON. */
  readonly payload: string;
  /** Wall-clock time of the rejection, epoch µs. */
  readonly receivedAt: number;
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

/** Validates what sources produce and publishes it: good records to their topic, bad ones to `rejects`. */
export class Ingestor {
  constructor(
    private readonly bus: StreamBus,
    private readonly directory: SymbolDirectory,
    private readonly clock: Clock,
    /** Counts records by source, kind and outcome (accepted | rejected). */
    private readonly records?: Counter,
    /** How far ahead of the clock an event time may be, µs. */
    private readonly futureToleranceUs = 5 * SECOND_US,
  ) {}

  /** Splits a batch into valid records and rejects, without publishing. */
  check(batch: MarketBatch, source: string): MarketBatch & { rejects: Reject[] } {
    const now = this.clock.now();
    const context = {
      isKnownSymbol: (symbol: string) => this.directory.isKnown(symbol),
      now,
      futureToleranceUs: this.futureToleranceUs,
    };
    const rejects: Reject[] = [];
    const reject = (kind: Reject['kind'], reason: RejectReason, record: unknown) =>
      rejects.push({ source, kind, reason, payload: safeJson(record), receivedAt: now });
    const trades = batch.trades.filter((trade) => {
      const reason = validateTrade(trade, context);
      if (reason) reject('trade', reason, trade);
      return reason === undefined;
    });
    const quotes = batch.quotes.filter((quote) => {
      const reason = validateQuote(quote, context);
      if (reason) reject('quote', reason, quote);
      return reason === undefined;
    });
    if (this.records) {
      this.records.inc({ source, kind: 'trade', outcome: 'accepted' }, trades.length);
      this.records.inc({ source, kind: 'quote', outcome: 'accepted' }, quotes.length);
      for (const r of rejects) this.records.inc({ source, kind: r.kind, outcome: 'rejected' });
    }
    return { trades, quotes, rejects };
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
    await this.bus.publish(
      'trades',
      trades.map((value) => ({ key: value.symbol, value })),
    );
    await this.bus.publish(
      'quotes',
      quotes.map((value) => ({ key: value.symbol, value })),
    );
    if (rejects.length > 0) {
      await this.bus.publish(
        'rejects',
        rejects.map((value) => ({ key: value.source, value })),
      );
    }
    return { accepted: trades.length + quotes.length, rejected: rejects.length };
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
