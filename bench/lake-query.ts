import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { barsFromTradesSql } from '../src/batch/index.js';
import { DeltaTable, localObjectStore, type Filter } from '../src/lake/index.js';
import { TRADE_SCHEMA, envNumber, tradesBatch, tradingDays } from './lake-data.js';

/**
 * One symbol's 1-minute bars for one day and for one month from a trades table
 * partitioned by date and clustered by (symbol, ts), aggregated inside DuckDB: p50
 * latency with and without file pruning, files scanned, and the same reads through
 * delta-rs (Python, bars by pyarrow's group_by) as the peer.
 *
 * Layout: every day is loaded as LAKE_BENCH_FILES_PER_DAY appends, each holding one
 * contiguous range of symbols (as a sink partitioned by symbol group would write), so a
 * day has several files with disjoint symbol ranges and a symbol-day read has to find one
 * of them by statistics. LAKE_BENCH_QUERY_ROWS (default 100M), LAKE_BENCH_QUERY_DAYS
 * (30), LAKE_BENCH_QUERY_SYMBOLS (20), LAKE_BENCH_FILES_PER_DAY (4),
 * LAKE_BENCH_QUERY_RUNS (20; the month reads and the unpruned reads run a quarter as
 * often, at least 3), ALPHALAKE_PYTHON.
 */
export async function run(): Promise<void> {
  const total = envNumber('LAKE_BENCH_QUERY_ROWS', 100_000_000);
  const dayCount = envNumber('LAKE_BENCH_QUERY_DAYS', 30);
  const symbols = envNumber('LAKE_BENCH_QUERY_SYMBOLS', 20);
  const filesPerDay = Math.min(symbols, envNumber('LAKE_BENCH_FILES_PER_DAY', 4));
  const runs = envNumber('LAKE_BENCH_QUERY_RUNS', 20);
  const days = tradingDays(dayCount);
  const perDay = Math.floor(total / dayCount);
  const dir = await mkdtemp(path.join(tmpdir(), 'alphalake-bench-query-'));
  try {
    const table = await DeltaTable.create(localObjectStore(dir), '', {
      schema: TRADE_SCHEMA,
      partitionColumns: ['date'],
      clusterBy: ['symbol', 'ts'],
    });
    let start = performance.now();
    let id = 0;
    const perGroup = Math.ceil(symbols / filesPerDay);
    for (const day of days) {
      for (let first = 0; first < symbols; first += perGroup) {
        const groupSymbols = Math.min(perGroup, symbols - first);
        const rows = Math.round((perDay * groupSymbols) / symbols);
        await table.append(tradesBatch(rows, day, groupSymbols, id, first));
        id += rows;
      }
    }
    const loadSeconds = (performance.now() - start) / 1000;
    const snapshot = await table.snapshot();
    console.log(
      `lake query, ${id.toLocaleString()} trades, ${days.length} days, ${symbols} symbols, ` +
        `${snapshot.files.length} files (${filesPerDay} per day; loaded in ${loadSeconds.toFixed(1)} s, ` +
        `${(id / loadSeconds / 1e6).toFixed(2)} M rows/s)`,
    );
    const symbol = `S${String(Math.min(7, symbols - 1)).padStart(4, '0')}`;
    const day = days[Math.floor(days.length / 2)] as string;
    const dayFilters: Filter[] = [
      { column: 'symbol', op: '=', value: symbol },
      { column: 'date', op: '=', value: day },
      { column: 'ts', op: '>=', value: new Date(`${day}T00:00:00Z`) },
      { column: 'ts', op: '<', value: new Date(`${day}T23:59:59Z`) },
    ];
    const monthFilters: Filter[] = [
      { column: 'symbol', op: '=', value: symbol },
      { column: 'date', op: '>=', value: days[0] },
      { column: 'date', op: '<=', value: days[days.length - 1] },
    ];
    /**
     * One-minute bars computed by DuckDB (src/batch/read/bar-sql.ts): only the bars leave it,
     * so no object per trade is made in JavaScript.
     */
    const bars = async (filters: Filter[], prune: boolean) => {
      const result = await table.queryColumns({
        snapshot,
        filters,
        columns: ['ts', 'price', 'size', 'id'],
        aggregate: barsFromTradesSql('1m', 'id'),
        orderBy: [{ column: 'ts' }],
        prune,
      });
      const counts = result.columns['trade_count']?.values as Float64Array;
      let rows = 0;
      for (let i = 0; i < result.length; i++) rows += counts[i] as number;
      return { bars: result.length, rows, files: result.filesScanned, total: result.filesTotal };
    };
    type Read = typeof bars;
    const measure = async (
      label: string,
      read: Read,
      filters: Filter[],
      prune: boolean,
      times: number,
    ) => {
      await read(filters, prune); // warm: file footers, OS cache
      const samples: number[] = [];
      let last = { bars: 0, rows: 0, files: 0, total: 0 };
      for (let i = 0; i < times; i++) {
        start = performance.now();
        last = await read(filters, prune);
        samples.push(performance.now() - start);
      }
      samples.sort((a, b) => a - b);
      const p50 = samples[Math.floor(samples.length / 2)] as number;
      console.log(
        `  ${label.padEnd(34)} p50 ${p50.toFixed(1).padStart(8)} ms   files ${last.files}/${last.total} ` +
          `(${((100 * last.files) / Math.max(1, last.total)).toFixed(1)}%)   rows ${last.rows}   bars ${last.bars}`,
      );
      return p50;
    };
    const fewer = Math.max(3, Math.floor(runs / 4));
    const dayP50 = await measure('symbol-day, pruned', bars, dayFilters, true, runs);
    const dayUnpruned = await measure('symbol-day, no pruning', bars, dayFilters, false, fewer);
    const monthP50 = await measure('symbol-month, pruned', bars, monthFilters, true, fewer);
    await measure('symbol-month, no pruning', bars, monthFilters, false, fewer);
    const peer = await deltaRsPeer(
      dir,
      symbol,
      day,
      days[0] as string,
      days[days.length - 1] as string,
      runs,
    );
    console.log(`  delta-rs symbol-day               p50 ${peer.day.toFixed(1).padStart(8)} ms`);
    console.log(`  delta-rs symbol-month             p50 ${peer.month.toFixed(1).padStart(8)} ms`);
    const ratio = (ours: number, theirs: number) => `${(ours / theirs).toFixed(2)}x`;
    console.log(
      `  ratio pruned / unpruned, symbol-day             ${ratio(dayP50, dayUnpruned)}` +
        `\n  ratio alphalake / delta-rs, symbol-day          ${ratio(dayP50, peer.day)} (lower is faster; target p50 <= 25 ms)` +
        `\n  ratio alphalake / delta-rs, symbol-month        ${ratio(monthP50, peer.month)}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function deltaRsPeer(
  dir: string,
  symbol: string,
  day: string,
  first: string,
  last: string,
  runs: number,
): Promise<{ day: number; month: number }> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const python = process.env['ALPHALAKE_PYTHON'] ?? path.join(root, '.services/venv/bin/python');
  const script = path.join(root, 'bench/lake_query_peer.py');
  return new Promise((resolve, reject) => {
    const child = spawn(python, [script, dir, symbol, day, first, last, String(runs)]);
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(out) as { day: number; month: number });
      } catch {
        reject(new Error(`delta-rs peer failed (${code}): ${err}`));
      }
    });
  });
}
