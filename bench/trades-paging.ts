import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPlatform } from '../src/app.js';
import { configWith } from '../src/config/index.js';
import { ManualClock } from '../src/domain/index.js';
import { startApiServer } from '../src/graphql/index.js';
import type { ColumnBatch } from '../src/lake/index.js';
import { envNumber } from './lake-data.js';

/**
 * Paging PAGING_BENCH_TRADES trades (default 10,000,000) of one symbol end to end through
 * `tradesConnection` over HTTP, PAGING_BENCH_PAGE (10,000) a page, each page resuming at
 * the previous page's `endCursor`: rows/s, beside DuckDB's own reads of the same rows in
 * the same run as ceilings — one ordered query of every row into columns
 * (`queryColumns`, what a single giant page would cost without GraphQL or JSON), and
 * DuckDB's bare scan (an aggregate over the same columns: no rows leave DuckDB).
 *
 * Writing 10M trades takes minutes on 2 cores, so the lake is made once and kept under
 * PAGING_BENCH_CACHE (default bench/.cache, git-ignored) as `trades-paging-<N>/`, with a
 * `complete.json` written only after the last commit; later runs reuse it. Delete the
 * folder to rebuild. The trades are TSLA, one every 2 ms from 2026-10-01T00:00Z, written
 * in commits of 500,000 (one file each).
 */
export async function run(): Promise<void> {
  const tradeCount = envNumber('PAGING_BENCH_TRADES', 10_000_000);
  const pageSize = envNumber('PAGING_BENCH_PAGE', 10_000);
  const here = path.dirname(fileURLToPath(import.meta.url));
  // dist/bench → the repository's bench/.cache
  const cache = process.env.PAGING_BENCH_CACHE ?? path.resolve(here, '..', '..', 'bench', '.cache');
  const home = path.join(cache, `trades-paging-${tradeCount}`);
  mkdirSync(home, { recursive: true });
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  console.log(`trades paging: ${cpus().length} cores, load average ${load()} (machine shared)`);
  const platform = await createPlatform(
    // Auth and the rate limit off: the bench measures paging, not admission.
    configWith({
      home,
      port: 0,
      // One simulated session (2026-11-19, after the paged range) moves the watermark past the paged
      // trades, so they are read from the lake as settled history.
      backfillSessions: 1,
      simulatorSymbols: ['AAPL', 'TSLA'],
      simulatorTradesPerSecond: 0.5,
      authMode: 'off',
      rateLimitRequests: 0,
      logLevel: 'warn',
    }),
    { clock: new ManualClock(Date.parse('2026-11-20T15:07:30Z') * 1000) },
  );
  await platform.start({ live: false });
  const server = await startApiServer(platform.api, {
    host: '127.0.0.1',
    port: 0,
    development: false,
    ready: () => platform.ready,
    auth: platform.auth,
  });
  const start = Date.parse('2026-10-01T00:00:00Z') * 1000;
  try {
    const marker = path.join(home, 'complete.json');
    if (existsSync(marker) && JSON.parse(readFileSync(marker, 'utf8')).rows === tradeCount) {
      console.log(`  lake reused from ${home}`);
    } else {
      const began = performance.now();
      for (let done = 0; done < tradeCount; done += 500_000) {
        await platform.tables.trades.append(
          tradesChunk(start, done, Math.min(tradeCount, done + 500_000)),
        );
      }
      writeFileSync(marker, JSON.stringify({ rows: tradeCount }));
      const s = (performance.now() - began) / 1000;
      console.log(`  lake written to ${home} in ${s.toFixed(1)} s (load ${load()})`);
    }
    const range = { from: start, to: start + tradeCount * 2_000 + 1 };
    // As the lambda view filters a symbol's range (epoch µs for a timestamp).
    const filters = [
      { column: 'symbol', op: '=' as const, value: 'TSLA' },
      { column: 'ts', op: '>=' as const, value: range.from },
      { column: 'ts', op: '<' as const, value: range.to },
    ];

    // Ceilings first (they warm the file cache for the paging that follows, as a reused
    // lake's files are warm anyway).
    let began = performance.now();
    const scanned = await platform.tables.trades.query({
      columns: ['ts', 'seq', 'price', 'size', 'id'],
      filters,
      aggregate: {
        output: [{ name: 'n', type: 'long', nullable: false }],
        sql: () =>
          'SELECT count(*) + 0 * sum(price) + 0 * sum(size) + 0 * count(id) + 0 * max(seq) + 0 * count(ts) AS n FROM scan',
      },
    });
    const scanSeconds = (performance.now() - began) / 1000;
    const scanRows = Number(scanned.rows[0]?.n);
    began = performance.now();
    const read = await platform.tables.trades.queryColumns({
      columns: ['ts', 'seq', 'price', 'size', 'id'],
      filters,
      orderBy: [
        { column: 'ts', desc: false },
        { column: 'seq', desc: false },
        { column: 'id', desc: false },
      ],
    });
    const readSeconds = (performance.now() - began) / 1000;

    began = performance.now();
    let rows = 0;
    let pages = 0;
    let after: string | undefined;
    for (;;) {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: `query($after: String) { tradesConnection(symbol: "TSLA", from: "2026-09-30T00:00:00Z", to: "2026-11-01T00:00:00Z", first: ${pageSize}, after: $after) { edges { cursor node { tsMicros seq price size id } } pageInfo { hasNextPage endCursor } } }`,
          variables: { after },
        }),
      });
      const body = (await response.json()) as {
        errors?: unknown;
        data: {
          tradesConnection: {
            edges: unknown[];
            pageInfo: { hasNextPage: boolean; endCursor: string };
          };
        };
      };
      if (body.errors) throw new Error(`page ${pages}: ${JSON.stringify(body.errors)}`);
      rows += body.data.tradesConnection.edges.length;
      pages++;
      if (!body.data.tradesConnection.pageInfo.hasNextPage) break;
      after = body.data.tradesConnection.pageInfo.endCursor;
    }
    const pagingSeconds = (performance.now() - began) / 1000;
    if (rows !== tradeCount || scanRows !== tradeCount || read.length !== tradeCount) {
      throw new Error(
        `rows: paged ${rows}, scanned ${scanRows}, read ${read.length}, written ${tradeCount}`,
      );
    }
    const rate = (n: number, s: number) => `${Math.round(n / s).toLocaleString('en-US')} rows/s`;
    const paging = rows / pagingSeconds;
    console.log(
      `  tradesConnection, ${pages} pages of ${pageSize}: ${pagingSeconds.toFixed(1)} s, ${rate(rows, pagingSeconds)}` +
        `\n  DuckDB ordered read into columns (ceiling): ${readSeconds.toFixed(1)} s, ${rate(rows, readSeconds)} ` +
        `(paging ${(paging / (rows / readSeconds)).toFixed(3)}x)` +
        `\n  DuckDB bare scan (aggregate, no rows out): ${scanSeconds.toFixed(2)} s, ${rate(rows, scanSeconds)} ` +
        `(paging ${(paging / (rows / scanSeconds)).toFixed(4)}x)  load ${load()}`,
    );
  } finally {
    await server.close();
    await platform.stop();
  }
}

/** Trades [first, end) of the bench's tape as `bronze.trades` columns. */
function tradesChunk(start: number, first: number, end: number): ColumnBatch {
  const n = end - first;
  const ts = new Float64Array(n);
  const seq = new Float64Array(n);
  const price = new Float64Array(n);
  const size = new Float64Array(n);
  const id: string[] = new Array<string>(n);
  const dates = new Int32Array(n);
  const dictionary: string[] = [];
  for (let j = 0; j < n; j++) {
    const i = first + j;
    ts[j] = start + i * 2_000;
    seq[j] = i;
    price[j] = 250 + (i % 1000) / 100;
    size[j] = 1 + (i % 300);
    id[j] = `p${i}`;
    const date = new Date(ts[j]! / 1000).toISOString().slice(0, 10);
    let code = dictionary.indexOf(date);
    if (code < 0) code = dictionary.push(date) - 1;
    dates[j] = code;
  }
  return {
    length: n,
    columns: {
      symbol: { dictionary: ['TSLA'], codes: new Int32Array(n) },
      ts,
      seq,
      price,
      size,
      id,
      exchange: { dictionary: ['XNAS'], codes: new Int32Array(n) },
      date: { dictionary, codes: dates },
    },
  };
}
