import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { MINUTE_US, type Trade } from '../../src/domain/index.js';
import type { ApiBar } from './graphql.js';

/** A bar as the oracle computes it, in the API's field names. */
export type OracleBar = ApiBar;

/**
 * Bars recomputed in DuckDB from trades, written here from the definition, not by the
 * code under test: a bar holds the trades in [ts, ts + width) (fixed widths from the
 * epoch: with the 24x7 calendar a day is a UTC day); open/close by (ts, seq); the
 * notional Σ price·size summed in (ts, seq) order within each minute, and the minutes'
 * notionals summed in time order for a coarser bar (1s bars sum their trades directly).
 * Trades without sale conditions (every trade sets every field). `dir` holds the trades'
 * file.
 */
export async function oracleBars(
  dir: string,
  trades: readonly Trade[],
  widthUs: number,
): Promise<OracleBar[]> {
  const file = writeTradesNdjson(
    path.join(dir, `oracle-${widthUs}-${process.hrtime.bigint()}.ndjson`),
    trades,
  );
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const source = tradesNdjsonSource(file);
    const floor = (expr: string, w: number) => `(${expr} - ((${expr} % ${w}) + ${w}) % ${w})`;
    const fine = widthUs < MINUTE_US ? widthUs : MINUTE_US;
    const level1 =
      `SELECT ${floor('ts', fine)} AS b, arg_min(price, (ts, seq)) AS o, max(price) AS h, ` +
      `min(price) AS l, arg_max(price, (ts, seq)) AS c, sum(size) AS v, count(*) AS n, ` +
      `sum(price * size ORDER BY ts, seq) AS x FROM ${source} GROUP BY 1`;
    const level2 =
      `SELECT ${floor('b', widthUs)} AS bucket, arg_min(o, b) AS open, max(h) AS high, min(l) AS low, ` +
      `arg_max(c, b) AS close, sum(v) AS volume, sum(x ORDER BY b) / sum(v) AS vwap, sum(n) AS n ` +
      `FROM (${level1}) GROUP BY 1 ORDER BY 1`;
    const reader = await connection.runAndReadAll(level2);
    return reader.getRows().map((r) => ({
      tsMicros: Number(r[0]),
      open: Number(r[1]),
      high: Number(r[2]),
      low: Number(r[3]),
      close: Number(r[4]),
      volume: Number(r[5]),
      vwap: Number(r[6]),
      tradeCount: Number(r[7]),
    }));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * Writes trades' (ts, seq, price, size) as NDJSON for DuckDB to read: integers and
 * doubles as JSON numbers, which round-trip exactly (every value is below 2^53).
 */
export function writeTradesNdjson(file: string, trades: readonly Trade[]): string {
  writeFileSync(
    file,
    trades
      .map((t) => JSON.stringify({ ts: t.ts, seq: t.seq, price: t.price, size: t.size }))
      .join('\n'),
  );
  return file;
}

/** DuckDB's reader of a writeTradesNdjson file, with its exact column types. */
export function tradesNdjsonSource(file: string): string {
  return `read_json('${file}', columns = {ts: 'BIGINT', seq: 'BIGINT', price: 'DOUBLE', size: 'BIGINT'})`;
}
