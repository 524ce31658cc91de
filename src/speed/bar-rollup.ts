import {
  LAKE_BAR_INTERVAL_US,
  utcDate,
  DAY_US,
  type Bar,
  type TradingCalendar,
} from '../domain/index.js';

/**
 * Live bars above one minute, rolled up from the speed layer's live 1-minute bars by the
 * rules the lake rolls up `silver.bars_1m` with in DuckDB (src/batch/read/bar-sql.ts,
 * `combineMinutesSql` and `sessionBarsSql`), so that a live bar and the same bar read from
 * the lake afterwards are the same numbers, bit for bit:
 *
 * - `open` is the earliest minute's open, `close` the latest minute's close, `high`/`low`
 *   the extremes, `volume` and `tradeCount` the sums;
 * - `vwap` is Σ notional / Σ volume with the minutes' notionals (Σ price·size, as the
 *   minute's builder summed it — the number `silver.bars_1m` stores) added in time order
 *   from 0, as DuckDB's `sum(notional ORDER BY ts)` adds them; the close when no volume.
 *
 * Fixed intervals start at whole multiples of their length since the epoch; `1d` follows
 * the calendar's sessions: a session's bar holds the minutes in [open, close) and is
 * labelled by the UTC midnight of the session's date (the lake's convention); a minute
 * outside every session is in no daily bar (with the 24x7 calendar a session is a UTC day).
 */
export const ROLLED_BAR_INTERVALS = ['5m', '15m', '30m', '1h', '1d'] as const;
export type RolledBarInterval = (typeof ROLLED_BAR_INTERVALS)[number];

/** Every length a live bars subscription may follow. */
export const LIVE_BAR_INTERVALS = ['1s', '1m', ...ROLLED_BAR_INTERVALS] as const;
export type LiveBarInterval = (typeof LIVE_BAR_INTERVALS)[number];

/** A live bar of any live length. */
export type LiveBar = Omit<Bar, 'interval'> & {
  readonly interval: LiveBarInterval;
  /**
   * Whether the bar's interval has ended (a later trade of its symbol came, or the
   * watermark passed its end): the push that says so carries the bar's final state.
   * Absent on a bar read from the store (a subscriber's first bar): not known closed.
   */
  readonly closed?: boolean;
};

/** The span of event time one bar covers and the `ts` it is labelled with (epoch µs). */
export interface LiveBucket {
  readonly label: number;
  readonly open: number;
  readonly close: number;
}

/** The bucket of `interval` that holds the instant `ts`, or undefined (a daily bar outside every session). */
export function liveBucketOf(
  interval: RolledBarInterval,
  ts: number,
  calendar: TradingCalendar,
): LiveBucket | undefined {
  if (interval === '1d') {
    // A session lies within its date or reaches into the next one: look at both.
    for (const day of [ts, ts - DAY_US]) {
      const session = calendar.sessionOn(utcDate(day));
      if (session && ts >= session.open && ts < session.close) {
        return {
          label: Date.parse(`${session.date}T00:00:00Z`) * 1000,
          open: session.open,
          close: session.close,
        };
      }
    }
    return undefined;
  }
  const width = LAKE_BAR_INTERVAL_US[interval];
  const label = ts - (((ts % width) + width) % width);
  return { label, open: label, close: label + width };
}

interface Minute {
  readonly bar: Bar;
  readonly notional: number;
}

/** The roll-up of a run of minutes, in time order. */
interface Partial {
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  notional: number;
  tradeCount: number;
}

interface OpenBucket {
  readonly symbol: string;
  readonly interval: RolledBarInterval;
  readonly bucket: LiveBucket;
  /** The bucket's minutes by start, kept in time order. */
  readonly minutes: Minute[];
  /** The roll-up of every minute but the last, while it holds (undefined: recompute). */
  prefix: Partial | undefined;
}

export class BarRollup {
  private readonly open = new Map<string, OpenBucket>();

  constructor(
    private readonly calendar: TradingCalendar,
    private readonly intervals: readonly RolledBarInterval[] = ROLLED_BAR_INTERVALS,
  ) {}

  /**
   * Takes a 1-minute bar as it now stands, with its notional, and returns each rolled bar
   * it belongs to as that now stands (one per interval; none for `1d` outside a session).
   */
  add(minute: Bar, notional: number): LiveBar[] {
    const changed: LiveBar[] = [];
    for (const interval of this.intervals) {
      const bucket = liveBucketOf(interval, minute.ts, this.calendar);
      if (bucket === undefined) continue;
      const key = `${minute.symbol}\u0000${interval}\u0000${bucket.label}`;
      let open = this.open.get(key);
      if (open === undefined) {
        open = { symbol: minute.symbol, interval, bucket, minutes: [], prefix: undefined };
        this.open.set(key, open);
      }
      place(open, { bar: minute, notional });
      changed.push(barOf(open));
    }
    return changed;
  }

  /** Forgets the bars whose span ended at or before `ts` (epoch µs). */
  takeBefore(ts: number): void {
    for (const [key, open] of this.open) if (open.bucket.close <= ts) this.open.delete(key);
  }
}

/** Puts a minute in its place (replacing an earlier state of it), keeping the prefix when it can. */
function place(open: OpenBucket, minute: Minute): void {
  const { minutes } = open;
  const last = minutes[minutes.length - 1];
  if (last === undefined) {
    minutes.push(minute);
    open.prefix = undefined;
  } else if (last.bar.ts === minute.bar.ts) {
    // The usual case: the latest minute grew. The minutes before it did not change.
    minutes[minutes.length - 1] = minute;
  } else if (last.bar.ts < minute.bar.ts) {
    // A new latest minute: the previous one joins the prefix.
    open.prefix = open.prefix && minutes.length > 1 ? fold(open.prefix, last) : undefined;
    minutes.push(minute);
  } else {
    // A late trade for an earlier minute: put it in order and recompute from the start.
    const at = minutes.findIndex((m) => m.bar.ts >= minute.bar.ts);
    if (minutes[at]!.bar.ts === minute.bar.ts) minutes[at] = minute;
    else minutes.splice(at, 0, minute);
    open.prefix = undefined;
  }
  if (open.prefix === undefined && minutes.length > 1) {
    let prefix = start(minutes[0]!);
    for (let i = 1; i < minutes.length - 1; i++) prefix = fold(prefix, minutes[i]!);
    open.prefix = prefix;
  }
}

function start(minute: Minute): Partial {
  const { bar } = minute;
  return {
    open: bar.open,
    high: bar.high,
    low: bar.low,
    close: bar.close,
    volume: bar.volume,
    // 0 + the first notional, as a sum from zero has it.
    notional: 0 + minute.notional,
    tradeCount: bar.tradeCount,
  };
}

function fold(partial: Partial, minute: Minute): Partial {
  const { bar } = minute;
  return {
    open: partial.open,
    high: Math.max(partial.high, bar.high),
    low: Math.min(partial.low, bar.low),
    close: bar.close,
    volume: partial.volume + bar.volume,
    notional: partial.notional + minute.notional,
    tradeCount: partial.tradeCount + bar.tradeCount,
  };
}

function barOf(open: OpenBucket): LiveBar {
  const last = open.minutes[open.minutes.length - 1]!;
  const whole = open.prefix ? fold(open.prefix, last) : start(last);
  return {
    symbol: open.symbol,
    interval: open.interval,
    ts: open.bucket.label,
    open: whole.open,
    high: whole.high,
    low: whole.low,
    close: whole.close,
    volume: whole.volume,
    vwap: whole.volume > 0 ? whole.notional / whole.volume : whole.close,
    tradeCount: whole.tradeCount,
  };
}
