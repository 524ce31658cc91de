import type { Bar, Quote, Trade } from './market.js';

/**
 * Domain rules for incoming records. Each rule has a stable reason code that lands in
 * the rejects table next to the rejected row, so a bad tick is explained, never lost.
 * A record gets the reason of the first rule it breaks, in the order of the lists below
 * (the finer codes, `NEGATIVE_PRICE` and `ZERO_SIZE`, come before the general ones).
 */
export type RejectReason =
  | 'SYMBOL_MALFORMED'
  | 'UNKNOWN_SYMBOL'
  | 'TIMESTAMP_INVALID'
  | 'TIMESTAMP_IN_FUTURE'
  /** Outside the range the ingest was told to take (a backfill's `--from`/`--to`). */
  | 'TIMESTAMP_OUT_OF_RANGE'
  | 'PRICE_NOT_FINITE'
  /** Below zero: a price of exactly 0 is `PRICE_NOT_POSITIVE`. */
  | 'NEGATIVE_PRICE'
  | 'PRICE_NOT_POSITIVE'
  /** Exactly 0 shares: any other size that is not a positive integer is `SIZE_NOT_POSITIVE_INTEGER`. */
  | 'ZERO_SIZE'
  | 'SIZE_NOT_POSITIVE_INTEGER'
  | 'QUOTE_CROSSED'
  | 'ID_MISSING'
  | 'SEQUENCE_INVALID'
  /** A bar whose high/low do not bound its open and close, or with a negative volume. */
  | 'BAR_INCONSISTENT';

/**
 * Why the ingest path kept a record out of the lake without it breaking a domain rule:
 * each lands in `bronze.rejects` like a rule's reason (docs/ingest.md).
 */
export type IngestReason =
  /** A row a source could not read (the column at fault is in the reject's detail). */
  | 'MALFORMED_ROW'
  /** A trade whose (symbol, id) the ingest path already took from this source. */
  | 'DUPLICATE'
  /** An original trade the tape later corrected: its correction record is ingested instead. */
  | 'SUPERSEDED_BY_CORRECTION'
  /** An original trade the tape later cancelled or marked erroneous. */
  | 'CANCELLED'
  /** A cancel or error record: it withdraws a trade and is no trade itself. */
  | 'CANCEL_RECORD'
  /** A correction indicator this version does not know: kept out rather than guessed. */
  | 'CORRECTION_UNKNOWN'
  /** Older than the lake's watermark when the sink first saw it. */
  | 'LATE_EVENT';

export interface ValidationContext {
  /** Is this ticker known to master data? */
  readonly isKnownSymbol: (symbol: string) => boolean;
  /** Current wall-clock time, epoch µs. */
  readonly now: number;
  /** How far in the future an event time may be (clock skew), µs. */
  readonly futureToleranceUs: number;
  /** Event times the ingest takes, [from, to) in µs (a backfill's range); all when absent. */
  readonly range?: { readonly from: number; readonly to: number };
}

interface Rule<T> {
  readonly reason: RejectReason;
  readonly holds: (record: T, context: ValidationContext) => boolean;
}

const SYMBOL_PATTERN = /^[A-Z][A-Z0-9.]{0,9}$/;

const symbolRules = <T extends { symbol: string }>(): Rule<T>[] => [
  {
    reason: 'SYMBOL_MALFORMED',
    holds: (r) => typeof r.symbol === 'string' && SYMBOL_PATTERN.test(r.symbol),
  },
  { reason: 'UNKNOWN_SYMBOL', holds: (r, c) => c.isKnownSymbol(r.symbol) },
];

const timeRules = <T extends { ts: number }>(): Rule<T>[] => [
  // Epoch µs as a safe integer: exact in a double (docs/time.md); a fraction is not a µs.
  { reason: 'TIMESTAMP_INVALID', holds: (r) => Number.isSafeInteger(r.ts) && r.ts > 0 },
  { reason: 'TIMESTAMP_IN_FUTURE', holds: (r, c) => r.ts <= c.now + c.futureToleranceUs },
  {
    reason: 'TIMESTAMP_OUT_OF_RANGE',
    holds: (r, c) => c.range === undefined || (r.ts >= c.range.from && r.ts < c.range.to),
  },
];

const isPrice = (value: number) => typeof value === 'number' && Number.isFinite(value);
const isSize = (value: number) => Number.isSafeInteger(value) && value > 0;

export const TRADE_RULES: readonly Rule<Trade>[] = [
  ...symbolRules<Trade>(),
  ...timeRules<Trade>(),
  { reason: 'PRICE_NOT_FINITE', holds: (t) => isPrice(t.price) },
  { reason: 'NEGATIVE_PRICE', holds: (t) => !(t.price < 0) },
  { reason: 'PRICE_NOT_POSITIVE', holds: (t) => t.price > 0 },
  { reason: 'ZERO_SIZE', holds: (t) => t.size !== 0 },
  { reason: 'SIZE_NOT_POSITIVE_INTEGER', holds: (t) => isSize(t.size) },
  { reason: 'ID_MISSING', holds: (t) => typeof t.id === 'string' && t.id.length > 0 },
  { reason: 'SEQUENCE_INVALID', holds: (t) => Number.isSafeInteger(t.seq) && t.seq >= 0 },
];

export const QUOTE_RULES: readonly Rule<Quote>[] = [
  ...symbolRules<Quote>(),
  ...timeRules<Quote>(),
  { reason: 'PRICE_NOT_FINITE', holds: (q) => isPrice(q.bidPrice) && isPrice(q.askPrice) },
  { reason: 'NEGATIVE_PRICE', holds: (q) => !(q.bidPrice < 0 || q.askPrice < 0) },
  { reason: 'PRICE_NOT_POSITIVE', holds: (q) => q.bidPrice > 0 && q.askPrice > 0 },
  { reason: 'SIZE_NOT_POSITIVE_INTEGER', holds: (q) => isSize(q.bidSize) && isSize(q.askSize) },
  { reason: 'QUOTE_CROSSED', holds: (q) => q.bidPrice <= q.askPrice },
];

export const BAR_RULES: readonly Rule<Bar>[] = [
  ...symbolRules<Bar>(),
  ...timeRules<Bar>(),
  {
    reason: 'PRICE_NOT_FINITE',
    // A NaN vwap is "unknown" (Polygon's flat-file minute aggregates have none), not bad;
    // ±∞ is.
    holds: (b) =>
      [b.open, b.high, b.low, b.close].every(isPrice) && (Number.isNaN(b.vwap) || isPrice(b.vwap)),
  },
  { reason: 'NEGATIVE_PRICE', holds: (b) => !(b.low < 0) },
  { reason: 'PRICE_NOT_POSITIVE', holds: (b) => b.low > 0 },
  {
    reason: 'BAR_INCONSISTENT',
    holds: (b) =>
      b.low <= Math.min(b.open, b.close) && b.high >= Math.max(b.open, b.close) && b.volume >= 0,
  },
];

/** The first rule a record breaks, or undefined when it is valid. */
export function firstViolation<T>(
  rules: readonly Rule<T>[],
  record: T,
  context: ValidationContext,
): RejectReason | undefined {
  for (const rule of rules) {
    if (!rule.holds(record, context)) return rule.reason;
  }
  return undefined;
}

export const validateTrade = (trade: Trade, context: ValidationContext) =>
  firstViolation(TRADE_RULES, trade, context);
export const validateQuote = (quote: Quote, context: ValidationContext) =>
  firstViolation(QUOTE_RULES, quote, context);
export const validateBar = (bar: Bar, context: ValidationContext) =>
  firstViolation(BAR_RULES, bar, context);
