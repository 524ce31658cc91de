import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DeltaTable, localObjectStore } from '../src/lake/index.js';
import { TRADE_SCHEMA, envNumber, tradesBatch } from './lake-data.js';

/**
 * Append throughput: N trades in one commit through DeltaTable.append (columnar batch,
 * dictionary-encoded symbols), against the ceiling — DuckDB's own
 * `COPY (… ORDER BY symbol, ts) TO parquet (zstd)` of the same rows already in DuckDB.
 * LAKE_BENCH_APPEND_ROWS (default 10M), LAKE_BENCH_SYMBOLS (default 500),
 * LAKE_BENCH_REPEAT (default 3): both sides run that many times, alternating, and the
 * medians are compared (the machine is shared; one run of each is noise).
 */
export async function run(): Promise<void> {
  const rows = envNumber('LAKE_BENCH_APPEND_ROWS', 10_000_000);
  const symbols = envNumber('LAKE_BENCH_SYMBOLS', 500);
  const dir = await mkdtemp(path.join(tmpdir(), 'alphalake-bench-append-'));
  try {
    const repeat = envNumber('LAKE_BENCH_REPEAT', 3);
    const batch = tradesBatch(rows, '2024-01-02', symbols);
    const table = await DeltaTable.create(localObjectStore(dir), 'trades', {
      schema: TRADE_SCHEMA,
      partitionColumns: ['date'],
      clusterBy: ['symbol', 'ts'],
    });
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(
      `CREATE TABLE t AS SELECT 'S' || lpad(CAST(i % ${symbols} AS VARCHAR), 4, '0') AS symbol,
         make_timestamp(CAST(1704205800000000 + floor(i / ${rows} * 23400000) * 1000 AS BIGINT))::TIMESTAMPTZ AS ts,
         100 + ((i * 7919) % 1000) / 100 AS price, CAST(1 + i % 500 AS BIGINT) AS size, CAST(i AS BIGINT) AS id
       FROM range(${rows}) r(i)`,
    );
    const lakeRuns: number[] = [];
    const ceilingRuns: number[] = [];
    for (let run = 1; run <= repeat; run++) {
      let start = performance.now();
      await table.append(batch, { txn: { appId: 'bench', version: run } });
      lakeRuns.push((performance.now() - start) / 1000);
      start = performance.now();
      await connection.run(
        `COPY (SELECT * FROM t ORDER BY symbol, ts) TO '${path.join(dir, 'ceiling.parquet')}' (FORMAT parquet, COMPRESSION zstd)`,
      );
      ceilingRuns.push((performance.now() - start) / 1000);
    }
    connection.closeSync();
    instance.closeSync();
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    const lakeSeconds = median(lakeRuns);
    const ceilingSeconds = median(ceilingRuns);
    const all = (values: number[]) => values.map((v) => v.toFixed(2)).join(' ');
    const rate = (s: number) => `${(rows / s / 1e6).toFixed(2)} M rows/s`;
    console.log(
      `lake append, ${rows.toLocaleString()} trades, ${symbols} symbols, one commit; median of ${repeat}`,
    );
    console.log(
      `  alphalake DeltaTable.append   ${lakeSeconds.toFixed(2)} s   ${rate(lakeSeconds)}   (runs: ${all(lakeRuns)})`,
    );
    console.log(
      `  DuckDB COPY TO parquet (ceil) ${ceilingSeconds.toFixed(2)} s   ${rate(ceilingSeconds)}   (runs: ${all(ceilingRuns)})`,
    );
    console.log(
      `  ratio alphalake / ceiling     ${(ceilingSeconds / lakeSeconds).toFixed(2)}x (target >= 0.8x)`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
