import type { Options as AutocannonOptions, Result as AutocannonResult } from 'autocannon';
import { createClient } from 'graphql-ws';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { createPlatform } from '../src/app.js';
import { tradeColumns } from '../src/batch/index.js';
import { configWith } from '../src/config/index.js';
import {
  DAY_US,
  isoOfMicros,
  ManualClock,
  MINUTE_US,
  SECOND_US,
  type Trade,
} from '../src/domain/index.js';
import { sha256Hex, startApiServer } from '../src/graphql/index.js';
import { apiServerOptions } from '../src/cli/index.js';
import { envNumber } from './lake-data.js';

/**
 * The issue-12 market API under load. The server runs as `alphalake serve` starts it
 * (`apiServerOptions`: response cache, limits), auth and the rate limit off; autocannon
 * runs on a worker thread of its own, the bare ceiling and the subscribers on the
 * server's thread; the machine's two cores are shared by all, so every figure is printed
 * beside the ones it is to be read against, measured in the same run:
 *
 * - bars req/s and p99 per interval (one symbol-day, 20 connections, answered by the
 *   response cache after the first request — ahead of Express, by the cache-hit fast
 *   path — as any settled lake answer is; the trivial query also by its hash alone; requests
 *   ask for `identity`, one `1m` case for gzip as Node's fetch and browsers do) beside
 *   `{ lakeStatus { watermark } }` and a bare HTTP server sending the same bytes;
 * - 1,000 bar subscribers (graphql-ws, one socket each): delivery latency from the hub's
 *   publish to each subscriber's `next`, p50/p99;
 * - paging MARKET_BENCH_TRADES trades (default 1,000,000) end to end through
 *   `tradesConnection` 10,000 at a time: rows/s.
 *
 * MARKET_BENCH_SECONDS (5) per bars case, MARKET_BENCH_CONNECTIONS (20),
 * MARKET_BENCH_SUBSCRIBERS (1000), MARKET_BENCH_UPDATES (100), MARKET_BENCH_TRADES.
 */
export async function run(): Promise<void> {
  const seconds = envNumber('MARKET_BENCH_SECONDS', 5);
  const connections = envNumber('MARKET_BENCH_CONNECTIONS', 20);
  const subscriberCount = envNumber('MARKET_BENCH_SUBSCRIBERS', 1000);
  const updates = envNumber('MARKET_BENCH_UPDATES', 100);
  const tradeCount = envNumber('MARKET_BENCH_TRADES', 1_000_000);
  console.log(
    `market api: ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (the machine may be shared)`,
  );
  const home = mkdtempSync(path.join(tmpdir(), 'alphalake-bench-market-'));
  const T0 = Date.parse('2026-11-20T15:07:30Z') * 1000;
  // Auth off: the bench measures queries and delivery, not token checks (docs/auth.md); no
  // rate limit (one address sends every request) and no access line per request.
  const config = configWith({
    home,
    host: '127.0.0.1',
    port: 0,
    backfillSessions: 2,
    simulatorTradesPerSecond: 0.5,
    authMode: 'off',
    rateLimitRequests: 0,
    logLevel: 'warn',
  });
  const platform = await createPlatform(config, { clock: new ManualClock(T0) });
  await platform.start({ live: false });
  // As `alphalake serve` starts it (response cache, limits, persisted queries).
  const server = await startApiServer(platform.api, apiServerOptions(config, platform));
  try {
    // --- bars per interval beside the trivial query --------------------------------
    const day = Date.parse('2026-11-19T00:00:00Z') * 1000;
    const load = async (
      url: string,
      query: string,
      encoding: string,
      body = JSON.stringify({ query }),
    ) => {
      const result = await loadFromWorker({
        url,
        connections,
        duration: seconds,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'accept-encoding': encoding },
        body,
      });
      if (result.errors + result.non2xx > 0) throw new Error(`errors under load: ${query}`);
      return result;
    };
    // `identity` for every case, and one `1m` case as Node's fetch and browsers ask
    // (gzip). autocannon reads incompressible bodies far slower than text (a bare server's
    // 39 KB of random bytes: ≈ 1,300 req/s against ≈ 22,000 for 39 KB of one letter, on
    // this machine), so the gzip row measures the load generator more than the server.
    const GZIP = 'gzip, deflate, br';
    const IDENTITY = 'identity';
    const trivialQuery = '{ lakeStatus { watermark } }';
    await post(server.url, trivialQuery, IDENTITY);
    const trivial = await load(server.url, trivialQuery, IDENTITY);
    const trivialAnswer = await post(server.url, trivialQuery, IDENTITY);
    const trivialBare = await bareCeiling(trivialAnswer, (url) =>
      load(url, trivialQuery, IDENTITY),
    );
    console.log(
      `trivial query: ${rate(trivial).toFixed(0)} req/s, p99 ${trivial.latency.p99} ms; ` +
        `bare HTTP, same ${trivialAnswer.body.byteLength} bytes: ${rate(trivialBare).toFixed(0)} req/s ` +
        `(trivial ${(rate(trivial) / rate(trivialBare)).toFixed(2)}× bare)`,
    );
    // The same query sent by its SHA-256 alone (automatic persisted queries), registered
    // once with its text: answered from the same cache entry as the text.
    const persistedQuery = { version: 1, sha256Hash: sha256Hex(trivialQuery) };
    await postBody(server.url, { query: trivialQuery, extensions: { persistedQuery } }, IDENTITY);
    const byHash = await load(
      server.url,
      trivialQuery,
      IDENTITY,
      JSON.stringify({ extensions: { persistedQuery } }),
    );
    // Apollo answers an unknown hash with 200 and an error: check it was a hit.
    const byHashAnswer = await postBody(server.url, { extensions: { persistedQuery } }, IDENTITY);
    if (byHashAnswer.cache !== 'hit') throw new Error('the hash-only query was not a cache hit');
    console.log(
      `trivial query by hash only (APQ): ${rate(byHash).toFixed(0)} req/s ` +
        `(${(rate(byHash) / rate(trivial)).toFixed(2)}× trivial, ` +
        `${(rate(byHash) / rate(trivialBare)).toFixed(2)}× bare), p99 ${byHash.latency.p99} ms`,
    );
    for (const [interval, from, to, encoding] of [
      ['1s', day + 13 * 3600 * SECOND_US, day + 14 * 3600 * SECOND_US, IDENTITY],
      ['1m', day, day + DAY_US, IDENTITY],
      ['1m', day, day + DAY_US, GZIP],
      ['5m', day, day + DAY_US, IDENTITY],
      ['15m', day, day + DAY_US, IDENTITY],
      ['1h', day, day + DAY_US, IDENTITY],
      ['1d', day - DAY_US, day + DAY_US, IDENTITY],
    ] as const) {
      const query = `{ bars(symbol: "AAPL", interval: "${interval}", from: "${isoOfMicros(from)}", to: "${isoOfMicros(to)}", limit: 100000) { tsMicros open high low close volume vwap tradeCount } }`;
      // Kept by the first request, compressed once; the answer the load then receives.
      await post(server.url, query, encoding);
      const answer = await post(server.url, query, encoding);
      const result = await load(server.url, query, encoding);
      const bare = await bareCeiling(answer, (url) => load(url, query, encoding));
      const size = `${(answer.body.byteLength / 1024).toFixed(1)} KiB${answer.encoding ? ` ${answer.encoding}` : ''}`;
      console.log(
        `bars ${interval.padEnd(3)} (${size}, cache ${answer.cache}): ${rate(result).toFixed(0)} req/s ` +
          `(${(rate(result) / rate(trivial)).toFixed(2)}× trivial, ` +
          `${(rate(result) / rate(bare)).toFixed(2)}× bare ${rate(bare).toFixed(0)}), ` +
          `p99 ${result.latency.p99} ms`,
      );
    }
    console.log(
      `load average after the bars cases: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );

    // --- 1,000 subscribers ---------------------------------------------------------
    const latencies: number[] = [];
    const clients = Array.from({ length: subscriberCount }, () => {
      const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket });
      client.subscribe<{ bars: { volume: number } }>(
        { query: 'subscription { bars(symbols: ["AAPL"]) { volume } }' },
        {
          // `volume` carries the publish instant (performance.now() in µs).
          next: (m) => latencies.push(performance.now() - (m.data?.bars.volume ?? 0) / 1000),
          error: () => undefined,
          complete: () => undefined,
        },
      );
      return client;
    });
    while (platform.hub.subscriberCount('bar') < subscriberCount) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (let i = 0; i < updates; i++) {
      platform.hub.publish('bar', [
        {
          symbol: 'AAPL',
          interval: '1m',
          ts: T0 + i * MINUTE_US,
          open: 1,
          high: 1,
          low: 1,
          close: 1,
          volume: Math.round(performance.now() * 1000),
          vwap: 1,
          tradeCount: 1,
        },
      ]);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    while (latencies.length < subscriberCount * updates) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Promise.all(clients.map((c) => c.dispose()));
    latencies.sort((a, b) => a - b);
    const pct = (p: number) =>
      (latencies[Math.floor((latencies.length - 1) * p)] ?? NaN).toFixed(1);
    console.log(
      `${subscriberCount} subscribers × ${updates} updates (one every 20 ms): delivery p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${pct(1)} ms (goal p99 ≤ 100 ms)`,
    );

    // --- paging trades ---------------------------------------------------------------
    const start = Date.parse('2026-10-01T00:00:00Z') * 1000;
    for (let done = 0; done < tradeCount; done += 500_000) {
      const trades: Trade[] = [];
      for (let i = done; i < Math.min(tradeCount, done + 500_000); i++) {
        trades.push({
          symbol: 'TSLA',
          ts: start + i * 2_000,
          seq: i,
          price: 250 + (i % 1000) / 100,
          size: 1 + (i % 300),
          id: `p${i}`,
          exchange: 'XNAS',
        });
      }
      await platform.tables.trades.append(tradeColumns(trades));
    }
    const began = performance.now();
    let rows = 0;
    let after: string | undefined;
    for (;;) {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: `query($after: String) { tradesConnection(symbol: "TSLA", from: "2026-09-30T00:00:00Z", to: "2026-11-01T00:00:00Z", first: 10000, after: $after) { edges { cursor node { tsMicros seq price size id } } pageInfo { hasNextPage endCursor } } }`,
          variables: { after },
        }),
      });
      const body = (await response.json()) as {
        data: {
          tradesConnection: {
            edges: unknown[];
            pageInfo: { hasNextPage: boolean; endCursor: string };
          };
        };
      };
      rows += body.data.tradesConnection.edges.length;
      if (!body.data.tradesConnection.pageInfo.hasNextPage) break;
      after = body.data.tradesConnection.pageInfo.endCursor;
    }
    const elapsed = (performance.now() - began) / 1000;
    console.log(
      `paging ${rows} trades 10,000 a page: ${elapsed.toFixed(1)} s, ${(rows / elapsed).toFixed(0)} rows/s`,
    );
  } finally {
    await server.close();
    await platform.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

/** The bytes a request is answered with on the wire (not decompressed); errors fail the bench. */
interface Answer {
  readonly body: Buffer;
  readonly encoding: string | undefined;
  readonly cache: string | undefined;
}

function post(url: string, query: string, encoding: string): Promise<Answer> {
  return postBody(url, { query }, encoding);
}

function postBody(url: string, body: unknown, encoding: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'accept-encoding': encoding },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const body = Buffer.concat(chunks);
          const encoded = response.headers['content-encoding'];
          const text = (encoded === 'gzip' ? gunzipSync(body) : body).toString();
          if (response.statusCode !== 200 || text.startsWith('{"errors"')) {
            reject(new Error(`query failed (${response.statusCode}): ${text.slice(0, 500)}`));
            return;
          }
          resolve({
            body,
            encoding: encoded,
            cache: response.headers['alphalake-response-cache'] as string | undefined,
          });
        });
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

/** Requests completed per second over the whole run. */
function rate(result: AutocannonResult): number {
  return result.requests.total / result.duration;
}

/** autocannon on its own thread (bench/autocannon-worker.ts). */
function loadFromWorker(options: AutocannonOptions): Promise<AutocannonResult> {
  const worker = new Worker(new URL('./autocannon-worker.js', import.meta.url), {
    workerData: options,
  });
  return new Promise((resolve, reject) => {
    worker.on('message', (message: { alphalakeResult?: AutocannonResult }) => {
      if (message.alphalakeResult === undefined) return;
      resolve(message.alphalakeResult);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

/**
 * The ceiling: a bare Node HTTP server on this thread (the API server's) that reads each
 * request's body and answers with the same bytes and content encoding from memory.
 */
async function bareCeiling<T>(answer: Answer, measure: (url: string) => Promise<T>): Promise<T> {
  const bare = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        ...(answer.encoding ? { 'content-encoding': answer.encoding } : {}),
        'content-length': answer.body.byteLength,
      });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  try {
    return await measure(`http://127.0.0.1:${(bare.address() as AddressInfo).port}/graphql`);
  } finally {
    await new Promise((resolve) => bare.close(resolve));
  }
}
