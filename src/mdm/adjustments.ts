import { AlphalakeError, DAY_US } from '../domain/index.js';
import type { CorporateActionRecord } from './master-data-store.js';

/**
 * Cumulative adjustment factors from corporate actions (docs/mdm.md, "Adjusted prices").
 *
 * Each action contributes a price factor and a volume factor to every row whose event
 * time is before its ex-date (at 00:00 UTC, the lake's `date` partition boundary):
 *
 * - a split of `splitTo` new shares for `splitFrom` old: price × splitFrom/splitTo,
 *   volume × splitTo/splitFrom (2-for-1: prices halve, volumes double);
 * - a cash dividend D: price × (1 − D / P), where P is the raw close of the last bar
 *   before the ex-date; volume unchanged. This is the multiplier of the CRSP standard
 *   that Yahoo Finance's adjusted close follows ("Data is adjusted using appropriate
 *   split and dividend multipliers, adhering to Center for Research in Security Prices
 *   (CRSP) standards", help.yahoo.com "Adjusted close"; CRSP's cumulative factor to
 *   adjust prices, CRSP US Stock Database Guide, "Cumulative Factor to Adjust Prices").
 *   It removes the drop in price the dividend's payout causes, so returns computed on
 *   adjusted prices are total returns.
 *
 * The factors of all later actions multiply into one cumulative factor per span of
 * event time. The product is taken from the latest ex-date backwards (the latest
 * action's factor first), actions on the same date in id order: floating-point
 * multiplication is not associative, and a fixed order makes the factor one number.
 */

/** One action's own factors and the instant its ex-date starts (epoch µs). */
export interface ActionFactor {
  readonly exTs: number;
  readonly price: number;
  readonly volume: number;
}

/**
 * A span of event time [from, to) and what its raw prices and volumes are multiplied
 * by. The spans of `adjustmentSpans` cover every instant once, in order.
 */
export interface AdjustmentSpan {
  readonly from: number;
  readonly to: number;
  readonly price: number;
  readonly volume: number;
}

/** The ends of the time line: any domain instant lies within them. */
export const TIME_MIN = Number.MIN_SAFE_INTEGER;
export const TIME_MAX = Number.MAX_SAFE_INTEGER;

/** 00:00 UTC of a `YYYY-MM-DD` date, epoch µs. */
export function startOfDate(date: string): number {
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (!Number.isFinite(ms)) {
    throw new AlphalakeError('BAD_USER_INPUT', `not a date: ${JSON.stringify(date)}`, { date });
  }
  return (ms / 86_400_000) * DAY_US;
}

/**
 * The factors of one action. A dividend needs `closeBefore`, the raw close of the last
 * bar before its ex-date; without one (no history before it yet) it adjusts nothing,
 * and it says so in `unpriced`.
 */
export function actionFactor(
  action: CorporateActionRecord,
  closeBefore: number | undefined,
): ActionFactor & { readonly unpriced?: true } {
  const exTs = startOfDate(action.exDate);
  if (action.kind === 'split') {
    return {
      exTs,
      price: action.splitFrom / action.splitTo,
      volume: action.splitTo / action.splitFrom,
    };
  }
  if (closeBefore === undefined || !(closeBefore > action.cashAmount)) {
    return { exTs, price: 1, volume: 1, unpriced: true };
  }
  return { exTs, price: 1 - action.cashAmount / closeBefore, volume: 1 };
}

/**
 * Cumulative factors per span of event time: the span before the first ex-date carries
 * the product of every action's factor, the span from the last ex-date on carries 1.
 * `factors` must be in the order of `actionFactor`'s callers: by ex-date, then id.
 */
export function adjustmentSpans(factors: readonly ActionFactor[]): AdjustmentSpan[] {
  const dates = [...new Set(factors.map((f) => f.exTs))].sort((a, b) => a - b);
  const spans: AdjustmentSpan[] = [];
  let price = 1;
  let volume = 1;
  let to = TIME_MAX;
  for (let i = dates.length - 1; i >= 0; i--) {
    const exTs = dates[i] as number;
    spans.push({ from: exTs, to, price, volume });
    for (const factor of factors.filter((f) => f.exTs === exTs)) {
      price = price * factor.price;
      volume = volume * factor.volume;
    }
    to = exTs;
  }
  spans.push({ from: TIME_MIN, to, price, volume });
  return spans.reverse();
}

/** The span holding `ts`. */
export function spanAt(spans: readonly AdjustmentSpan[], ts: number): AdjustmentSpan {
  for (const span of spans) if (ts >= span.from && ts < span.to) return span;
  return { from: TIME_MIN, to: TIME_MAX, price: 1, volume: 1 };
}

/** True when every factor is 1: the adjusted rows are the raw rows. */
export function isIdentity(spans: readonly AdjustmentSpan[]): boolean {
  return spans.every((s) => s.price === 1 && s.volume === 1);
}
