import type { Quote, Trade } from './market.js';

/**
 * Domain rules for incoming records. Each rule has a stable reason code that lands in
 * the rejects table next to the rejected row, so a bad tick is explained, never lost.
 */
export type RejectReason =
  | 'SYMBOL_MALFORMED'
  | 'UNKNOWN_SYMBOL'
  | 'TIMESTAMP_INVALID'
  | 'TIMESTAMP_IN_FUTURE'
  | 'PRICE_NOT_FINITE'
  | 'PRICE_NOT_POSITIVE'
  | 'SIZE_NOT_POSITIVE_INTEGER'
  | 'QUOTE_CROSSED'
  | 'ID_MISSING'
  | 'SEQUENCE_INVALID';

export interface ValidationContext {
  /** Is this ticker known to master data? */
  readonly isKnownSymbol: (symbol: string) => boolean;
  /** Current wall-clock time, epoch µs. */
  readonly now: number;
  /** How far in the future an event time may be (clock skew), µs. */
  readonly futureToleranceUs: number;
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
];

const isPrice = (value: number) => typeof value === 'number' && Number.isFinite(value);
const isSize = (value: number) => Number.isSafeInteger(value) && value > 0;

export const TRADE_RULES: readonly Rule<Trade>[] = [
  ...symbolRules<Trade>(),
  ...timeRules<Trade>(),
  { reason: 'PRICE_NOT_FINITE', holds: (t) => isPrice(t.price) },
  { reason: 'PRICE_NOT_POSITIVE', holds: (t) => t.price > 0 },
  { reason: 'SIZE_NOT_POSITIVE_INTEGER', holds: (t) => isSize(t.size) },
  { reason: 'ID_MISSING', holds: (t) => typeof t.id === 'string' && t.id.length > 0 },
  { reason: 'SEQUENCE_INVALID', holds: (t) => Number.isSafeInteger(t.seq) && t.seq >= 0 },
];

export const QUOTE_RULES: readonly Rule<Quote>[] = [
  ...symbolRules<Quote>(),
  ...timeRules<Quote>(),
  { reason: 'PRICE_NOT_FINITE', holds: (q) => isPrice(q.bidPrice) && isPrice(q.askPrice) },
  { reason: 'PRICE_NOT_POSITIVE', holds: (q) => q.bidPrice > 0 && q.askPrice > 0 },
  { reason: 'SIZE_NOT_POSITIVE_INTEGER', holds: (q) => isSize(q.bidSize) && isSize(q.askSize) },
  { reason: 'QUOTE_CROSSED', holds: (q) => q.bidPrice <= q.askPrice },
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
