import {
  AlphalakeError,
  LAKE_BAR_INTERVAL_US,
  MINUTE_US,
  SECOND_US,
  type LakeBarInterval,
  type Session,
  DEFAULT_CONDITION_RULES,
  type ConditionRules,
  type ConditionUpdateRules,
} from '../../domain/index.js';
import type { AggregateSql, ColumnSpec } from '../../lake/index.js';
import { BARS_1M_TABLE, TRADES_TABLE } from '../tables.js';

/**
 * Bars computed inside DuckDB, over the rows the lake's scan selects (the relation
 * `scan`): the trades of `bronze.trades` into bars of any whole-minute interval, or the
 * 1-minute bars of `silver.bars_1m` into coarser ones. Nothing is grouped in JavaScript;
 * only the bars leave DuckDB.
 *
 * Buckets are computed on the lake's exact unit, epoch microseconds (`epoch_us`, the
 * domain's unit too), with a
 * floor that holds for instants before 1970 too, so a bar starts at a whole multiple of
 * its interval since the epoch (a `1d` bar is a UTC day, like the `date` partition).
 *
 * The rules are those of the domain's BarBuilder: `open` is the price of the earliest
 * trade and `close` of the latest (ties in time broken by the source's sequence number `seq`,
 * the domain's order of trades, so the answer is one), `high`/`low` the extremes, `volume` the summed size, `trade_count` the number of
 * trades, and `vwap` = Σ(price·size) / Σ(size) (the close when no volume). The notional
 * Σ(price·size) is summed in time order (an ordered aggregate): floating-point addition
 * is not associative, so a fixed order is what makes the answer one number, the same on
 * every run and the same as the builder's running sum over time-ordered trades.
 */

/** An interval's length in the lake's microseconds; BAD_USER_INPUT for an unknown one. */
export function intervalMicros(interval: string): number {
  const micros = (LAKE_BAR_INTERVAL_US as Readonly<Record<string, number>>)[interval];
  if (micros === undefined) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `unknown bar interval ${JSON.stringify(interval)}: use one of ${Object.keys(LAKE_BAR_INTERVAL_US).join(', ')}`,
      { interval },
    );
  }
  return micros;
}

/**
 * What both bar queries return, in this order: the bar columns of `silver.bars_1m`
 * (its schema, so the two cannot drift apart), without the key and the bookkeeping.
 */
export const BAR_OUTPUT: readonly ColumnSpec[] = BARS_1M_TABLE.schema.filter(
  (c) => !['symbol', 'date', 'notional'].includes(c.name),
);

/** `epoch_us(ts)` floored to a multiple of the bucket width bound as `width`. */
function bucketSql(width: string): string {
  return `(epoch_us(ts) - (((epoch_us(ts) % ${width}) + ${width}) % ${width}))`;
}

/**
 * Bars of `interval` from trades; the scan must hold `ts`, `price`, `size` and the
 * numeric tie-breaking column `tieBreak` (`seq` in `bronze.trades`: trades are ordered by
 * (ts, seq)).
 *
 * Two levels, so that any interval is built exactly as from stored 1-minute bars: the
 * trades make 1-minute bars first (notional summed over the minute's trades in (ts, seq)
 * order, as the bar builder sums a time-ordered minute), and the minutes make the bar
 * (notionals summed in time order). A coarse bar from `bronze.trades` and the same bar
 * from `silver.bars_1m` (`coarserBarsSql`) are then the same numbers, bit for bit.
 */
export function barsFromTradesSql(interval: LakeBarInterval, tieBreak = 'seq'): AggregateSql {
  const width = intervalMicros(interval);
  // NULL (a row written before the column existed) counts as 0, as the lake reads it.
  const key = `ts, coalesce(${quote(tieBreak)}, 0)`;
  return {
    output: BAR_OUTPUT,
    sql: (param) => {
      const minute = `CAST(${param(MINUTE_US)} AS BIGINT)`;
      const minutes =
        `SELECT make_timestamp(bucket) AS ts, arg_min(price, (${key})) AS open, max(price) AS high, ` +
        `min(price) AS low, arg_max(price, (${key})) AS close, sum(size) AS volume, ` +
        `sum(price * size ORDER BY ${key}) AS notional, count(*) AS trade_count ` +
        `FROM (SELECT ts, price, size, ${quote(tieBreak)}, ${bucketSql(minute)} AS bucket FROM scan) ` +
        `GROUP BY bucket`;
      return combineMinutesSql(minutes, `CAST(${param(width)} AS BIGINT)`);
    },
  };
}

/**
 * Bars of `interval` from 1-minute bars; the scan must hold the bars_1m columns `ts`,
 * `open`, `high`, `low`, `close`, `volume`, `vwap`, `trade_count` and `notional`.
 *
 * The vwap is Σ notional / Σ volume, the notionals summed in time order: exact, the same
 * number as the bar from the trades. Rows written before `silver.bars_1m` stored the
 * notional have none; for them `vwap · volume` stands in, which recovers the notional only
 * to within an ulp or two.
 */
export function coarserBarsSql(
  interval: LakeBarInterval,
  spans?: readonly FactorSpan[],
): AggregateSql {
  const width = intervalMicros(interval);
  return {
    output: spans ? ADJUSTED_BAR_OUTPUT : BAR_OUTPUT,
    sql: (param) => combineMinutesSql(minutesSql(param, spans), `CAST(${param(width)} AS BIGINT)`),
  };
}

/**
 * The scanned 1-minute bars with their notional, as the roll-ups read them; with factor
 * spans, each minute adjusted before it is rolled up (prices times the price factor,
 * volume times the volume factor, the notional times both), so a coarse adjusted bar is
 * the roll-up of the adjusted minutes, whichever side of an ex-date they lie.
 */
function minutesSql(param: (value: number) => string, spans?: readonly FactorSpan[]): string {
  if (!spans) {
    return (
      `SELECT ts, open, high, low, close, volume, coalesce(notional, vwap * volume) AS notional, ` +
      `trade_count FROM scan`
    );
  }
  return (
    `SELECT s.ts AS ts, s.open * factors.price AS open, s.high * factors.price AS high, ` +
    `s.low * factors.price AS low, s.close * factors.price AS close, ` +
    `CAST(s.volume AS DOUBLE) * factors.volume AS volume, ` +
    `coalesce(s.notional, s.vwap * s.volume) * factors.price * factors.volume AS notional, ` +
    `s.trade_count AS trade_count FROM scan AS s JOIN ${factorsSql(spans, param)} ${FACTOR_JOIN}`
  );
}

/** Minute bars (with `notional`) into bars of the bucket width `width` (µs, bound). */
function combineMinutesSql(minutes: string, width: string): string {
  return (
    `SELECT make_timestamp(bucket) AS ts, arg_min(open, ts) AS open, max(high) AS high, ` +
    `min(low) AS low, arg_max(close, ts) AS close, sum(volume) AS volume, ` +
    `CASE WHEN sum(volume) > 0 THEN sum(notional ORDER BY ts) / sum(volume) ` +
    `ELSE arg_max(close, ts) END AS vwap, sum(trade_count) AS trade_count ` +
    `FROM (SELECT *, ${bucketSql(width)} AS bucket FROM (${minutes})) GROUP BY bucket`
  );
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * A span of event time [from, to) (epoch µs) and the factors raw prices and volumes in
 * it are multiplied by: the cumulative adjustment factors of corporate actions
 * (src/mdm/adjustments.ts). The spans given to the queries below cover the time line.
 */
export interface FactorSpan {
  readonly from: number;
  readonly to: number;
  readonly price: number;
  readonly volume: number;
}

/**
 * The factor spans as a relation `factors(lo, hi, price, volume)` inside the query, every
 * value a bound parameter: a VALUES list DuckDB joins like any table.
 */
function factorsSql(spans: readonly FactorSpan[], param: (value: number) => string): string {
  const rows = spans.map(
    (s) =>
      `(CAST(${param(s.from)} AS BIGINT), CAST(${param(s.to)} AS BIGINT), ` +
      `CAST(${param(s.price)} AS DOUBLE), CAST(${param(s.volume)} AS DOUBLE))`,
  );
  return `(VALUES ${rows.join(', ')}) AS factors(lo, hi, price, volume)`;
}

/** The join of each scanned row to the one span holding its event time. */
const FACTOR_JOIN = 'ON epoch_us(s.ts) >= factors.lo AND epoch_us(s.ts) < factors.hi';

/** `silver.bars_1m`'s bar columns as an adjusted read returns them: volume becomes a double. */
export const ADJUSTED_BAR_OUTPUT: readonly ColumnSpec[] = BARS_1M_TABLE.schema
  .filter((c) =>
    ['ts', 'open', 'high', 'low', 'close', 'volume', 'vwap', 'trade_count'].includes(c.name),
  )
  .map((c) => (c.name === 'volume' ? { ...c, type: 'double' as const } : c));

/**
 * Adjusted 1-minute bars: the scanned `silver.bars_1m` rows joined to the factor spans,
 * open/high/low/close/vwap times the price factor and volume times the volume factor,
 * each one IEEE-754 double multiplication in DuckDB. The stored rows stay raw.
 */
export function adjustedBarsSql(spans: readonly FactorSpan[]): AggregateSql {
  return {
    output: ADJUSTED_BAR_OUTPUT,
    sql: (param) =>
      `SELECT s.ts AS ts, s.open * factors.price AS open, s.high * factors.price AS high, ` +
      `s.low * factors.price AS low, s.close * factors.price AS close, ` +
      `CAST(s.volume AS DOUBLE) * factors.volume AS volume, s.vwap * factors.price AS vwap, ` +
      `s.trade_count AS trade_count FROM scan AS s JOIN ${factorsSql(spans, param)} ${FACTOR_JOIN}`,
  };
}

/**
 * `bronze.trades`' columns as an adjusted read returns them: size becomes a double. The
 * served trade has no conditions (they shape bars), so the read leaves them out.
 */
export const ADJUSTED_TRADE_OUTPUT: readonly ColumnSpec[] = TRADES_TABLE.schema
  .filter((c) => c.name !== 'date' && c.name !== 'conditions')
  .map((c) => (c.name === 'size' ? { ...c, type: 'double' as const } : c));

/** Adjusted trades: price times the price factor, size times the volume factor, in DuckDB. */
export function adjustedTradesSql(spans: readonly FactorSpan[]): AggregateSql {
  return {
    output: ADJUSTED_TRADE_OUTPUT,
    sql: (param) =>
      `SELECT s.symbol AS symbol, s.ts AS ts, s.seq AS seq, s.price * factors.price AS price, ` +
      `CAST(s.size AS DOUBLE) * factors.volume AS size, s.id AS id, s.exchange AS exchange, ` +
      `s.ts_nanos AS ts_nanos ` +
      `FROM scan AS s JOIN ${factorsSql(spans, param)} ${FACTOR_JOIN}`,
  };
}

/**
 * Whether each trade may set open/close, high/low and volume (`oc`, `hl`, `vol`), from its
 * `conditions` by the rules bars follow (src/domain/trade-conditions.ts): a condition
 * that forbids one forbids it. The ids are integers of the rules table, inlined.
 */
function conditionFlagsSql(rules: ConditionRules): string {
  const forbidding = (flag: keyof ConditionUpdateRules) => {
    const ids = [...rules].filter(([, r]) => !r[flag]).map(([id]) => id);
    return ids.length === 0
      ? 'true'
      : `NOT list_has_any(coalesce(conditions, []::INTEGER[]), [${ids.join(', ')}]::INTEGER[])`;
  };
  return (
    `${forbidding('updatesOpenClose')} AS oc, ${forbidding('updatesHighLow')} AS hl, ` +
    `${forbidding('updatesVolume')} AS vol`
  );
}

/**
 * 1-second bars straight from trades (the scan holds `ts`, `price`, `size`, `seq`, and
 * `conditions` when `conditions` is true): one level, the notional summed over the
 * second's trades in (ts, seq) order, as the speed layer's 1-second BarBuilder sums them.
 * With conditions, each trade sets only what its sale conditions allow, and a second none
 * of whose trades may set a price takes it from all of them, as BarBuilder does.
 */
export function secondBarsSql(
  tieBreak = 'seq',
  spans?: readonly FactorSpan[],
  conditions = false,
  rules: ConditionRules = DEFAULT_CONDITION_RULES,
): AggregateSql {
  const key = `ts, coalesce(${quote(tieBreak)}, 0)`;
  return {
    output: spans ? ADJUSTED_BAR_OUTPUT : BAR_OUTPUT,
    sql: (param) => {
      const width = `CAST(${param(SECOND_US)} AS BIGINT)`;
      const carried = conditions ? ', conditions' : '';
      // Adjusted: each trade's price and size times its span's factors, before bucketing.
      const trades = spans
        ? `(SELECT s.ts AS ts, s.price * factors.price AS price, ` +
          `CAST(s.size AS DOUBLE) * factors.volume AS size, s.${quote(tieBreak)} AS ${quote(tieBreak)}` +
          `${conditions ? ', s.conditions AS conditions' : ''} ` +
          `FROM scan AS s JOIN ${factorsSql(spans, param)} ${FACTOR_JOIN})`
        : 'scan';
      if (!conditions) {
        return (
          `SELECT make_timestamp(bucket) AS ts, arg_min(price, (${key})) AS open, max(price) AS high, ` +
          `min(price) AS low, arg_max(price, (${key})) AS close, sum(size) AS volume, ` +
          `CASE WHEN sum(size) > 0 THEN sum(price * size ORDER BY ${key}) / sum(size) ` +
          `ELSE arg_max(price, (${key})) END AS vwap, count(*) AS trade_count ` +
          `FROM (SELECT ts, price, size, ${quote(tieBreak)}, ${bucketSql(width)} AS bucket FROM ${trades}) ` +
          `GROUP BY bucket`
        );
      }
      const close = `coalesce(arg_max(price, (${key})) FILTER (WHERE oc), arg_max(price, (${key})))`;
      const volume = `coalesce(sum(size) FILTER (WHERE vol), 0)`;
      return (
        `SELECT make_timestamp(bucket) AS ts, ` +
        `coalesce(arg_min(price, (${key})) FILTER (WHERE oc), arg_min(price, (${key}))) AS open, ` +
        `coalesce(max(price) FILTER (WHERE hl), max(price)) AS high, ` +
        `coalesce(min(price) FILTER (WHERE hl), min(price)) AS low, ${close} AS close, ` +
        `${volume} AS volume, ` +
        `CASE WHEN ${volume} > 0 THEN sum(price * size ORDER BY ${key}) FILTER (WHERE vol) / ${volume} ` +
        `ELSE ${close} END AS vwap, count(*) AS trade_count ` +
        `FROM (SELECT ts, price, size, ${quote(tieBreak)}${carried}, ${conditionFlagsSql(rules)}, ` +
        `${bucketSql(width)} AS bucket FROM ${trades}) GROUP BY bucket`
      );
    },
  };
}

/**
 * Daily bars aligned to trading sessions, from 1-minute bars: a session's bar holds the
 * minutes in [open, close) and starts at the UTC midnight of the session's date (the
 * convention of vendors' daily bars, and the `date` partition). Minutes outside every
 * session (pre- and after-market) are in no daily bar. The sessions arrive as one bound
 * text parameter of `open,close,label` triples (epoch µs), so the SQL text stays fixed.
 *
 * With factor spans the minutes are adjusted before the roll-up (`minutesSql`).
 */
export function sessionBarsSql(
  sessions: readonly Session[],
  spans?: readonly FactorSpan[],
): AggregateSql {
  const encoded = sessions
    .map((s) => `${s.open},${s.close},${Date.parse(`${s.date}T00:00:00Z`) * 1000}`)
    .join(';');
  return {
    output: spans ? ADJUSTED_BAR_OUTPUT : BAR_OUTPUT,
    sql: (param) => {
      const list = param(encoded);
      const sessionsSql =
        `SELECT CAST(p[1] AS BIGINT) AS open_us, CAST(p[2] AS BIGINT) AS close_us, ` +
        `CAST(p[3] AS BIGINT) AS label_us FROM (SELECT string_split(s, ',') AS p ` +
        `FROM (SELECT unnest(string_split(${list}, ';')) AS s) WHERE s <> '')`;
      const minutes = minutesSql(param, spans);
      return (
        `SELECT make_timestamp(label_us) AS ts, arg_min(open, ts) AS open, max(high) AS high, ` +
        `min(low) AS low, arg_max(close, ts) AS close, sum(volume) AS volume, ` +
        `CASE WHEN sum(volume) > 0 THEN sum(notional ORDER BY ts) / sum(volume) ` +
        `ELSE arg_max(close, ts) END AS vwap, sum(trade_count) AS trade_count ` +
        `FROM (${minutes}) AS m JOIN (${sessionsSql}) AS d ` +
        `ON epoch_us(m.ts) >= d.open_us AND epoch_us(m.ts) < d.close_us GROUP BY label_us`
      );
    },
  };
}
