import { startLoopbackApi } from '../support/api.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlatform, type Platform } from '../../src/app.js';
import { configWith } from '../../src/config/index.js';
import {
  floorToMinute,
  isoOfMicros,
  ManualClock,
  MINUTE_US,
  SECOND_US,
} from '../../src/domain/index.js';
import { sha256Hex, type ApiServer } from '../../src/graphql/index.js';
import { createLogger } from '../../src/logging/index.js';

/**
 * The response cache, against the same platform served twice: once with the cache and
 * once without. Whatever the cache does, the two servers must answer byte for byte the
 * same; the `alphalake-response-cache` header says what the cache did.
 */
const T0 = Date.parse('2026-11-20T15:07:30Z') * 1_000; // µs
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-it-cache-'));
const config = configWith({
  home,
  port: 0,
  backfillSessions: 1,
  simulatorTradesPerSecond: 0.5,
  authMode: 'off',
});
const clock = new ManualClock(T0);
let platform: Platform;
let cached: ApiServer;
let fresh: ApiServer;

async function post(
  server: ApiServer,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ body: string; cache: string | null }> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return { body: await response.text(), cache: response.headers.get('alphalake-response-cache') };
}

/** A POST as bytes on the wire (fetch would decompress them), with the headers that matter. */
function raw(
  server: ApiServer,
  body: string,
  headers: Record<string, string>,
): Promise<{
  body: Buffer;
  cache: string | undefined;
  encoding: string | undefined;
  vary: string | undefined;
  length: string | undefined;
}> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      server.url,
      { method: 'POST', headers: { 'content-type': 'application/json', ...headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            body: Buffer.concat(chunks),
            cache: response.headers['alphalake-response-cache'] as string | undefined,
            encoding: response.headers['content-encoding'],
            vary: response.headers.vary,
            length: response.headers['content-length'],
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** The cached server's answer, checked against the uncached server's. */
async function ask(query: string, variables: Record<string, unknown> = {}): Promise<string | null> {
  const answer = await post(cached, query, variables);
  const truth = await post(fresh, query, variables);
  expect(answer.body).toBe(truth.body);
  expect(truth.cache).toBeNull();
  return answer.cache;
}

const BARS = `query($from: DateTime, $to: DateTime) {
  bars(symbol: "AAPL", from: $from, to: $to) { ts open high low close volume vwap tradeCount source }
}`;

async function advance(us: number): Promise<void> {
  clock.advance(us);
  await platform.feed!.pump(clock.now());
  await new Promise((resolve) => setTimeout(resolve, 50));
}

beforeAll(async () => {
  platform = await createPlatform(config, { clock });
  await platform.start({ live: false });
  cached = await startLoopbackApi(platform, { responseCacheBytes: 8 << 20 });
  fresh = await startLoopbackApi(platform);
});

afterAll(async () => {
  await cached?.close();
  await fresh?.close();
  await platform?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('response cache', () => {
  it('keeps an answer that lies wholly below the watermark and sends it again, equal to a fresh one', async () => {
    const watermark = platform.sink.watermark()!;
    const range = {
      from: isoOfMicros(watermark - 90 * MINUTE_US),
      to: isoOfMicros(watermark),
    };
    expect(await ask(BARS, range)).toBe('stored');
    expect(await ask(BARS, range)).toBe('hit');
    expect(await ask(BARS, range)).toBe('hit');
    // Another document or other variables are other answers.
    expect(await ask(BARS, { ...range, from: isoOfMicros(watermark - 30 * MINUTE_US) })).toBe(
      'stored',
    );
    expect(await ask('{ lakeStatus { watermark } }')).toBe('stored');
    expect(await ask('{ lakeStatus { watermark } }')).toBe('hit');
    const metrics = await (await fetch(cached.url.replace('/graphql', '/metrics'))).text();
    expect(Number(/^alphalake_response_cache_hits (\d+)$/m.exec(metrics)?.[1])).toBe(3);
    expect(Number(/^alphalake_lake_query_cache_hits (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(
      0,
    );
  });

  it('never keeps an answer that read the speed layer: it follows every new trade', async () => {
    const watermark = platform.sink.watermark()!;
    const range = { from: isoOfMicros(watermark - 10 * MINUTE_US) };
    expect(await ask(BARS, range)).toBe('miss');
    const before = await post(cached, BARS, range);
    await advance(2 * MINUTE_US);
    expect(await ask(BARS, range)).toBe('miss');
    const after = await post(cached, BARS, range);
    expect(after.body).not.toBe(before.body);
    const served = (JSON.parse(after.body) as { data: { bars: { source: string }[] } }).data.bars;
    expect(served.some((bar) => bar.source === 'SPEED')).toBe(true);
  });

  it('answers anew after the lake commits: a new version and watermark are new keys', async () => {
    const watermark = platform.sink.watermark()!;
    const settled = {
      from: isoOfMicros(watermark - 60 * MINUTE_US),
      to: isoOfMicros(watermark),
    };
    await ask(BARS, settled);
    expect(await ask(BARS, settled)).toBe('hit');
    const status = await post(cached, '{ lakeStatus { watermark } }');
    // Minutes move from the speed layer to the lake.
    await advance(3 * MINUTE_US);
    clock.advance(5 * SECOND_US);
    await platform.sink.flush();
    expect(platform.sink.watermark()).toBeGreaterThan(watermark);
    expect(await ask(BARS, settled)).toBe('stored');
    expect(await ask('{ lakeStatus { watermark } }')).toBe('stored');
    expect((await post(cached, '{ lakeStatus { watermark } }')).body).not.toBe(status.body);
    // A range that read the speed layer before the commit lies below the watermark now.
    const crossing = {
      from: settled.from,
      to: isoOfMicros(floorToMinute(platform.sink.watermark()!)),
    };
    expect(await ask(BARS, crossing)).toBe('stored');
    expect(await ask(BARS, crossing)).toBe('hit');
  });

  it('keeps no answer with a root field that did not declare itself settled, nor an error', async () => {
    expect(await ask('{ symbols { symbol } }')).toBe('miss');
    const watermark = platform.sink.watermark()!;
    const settledBars = `bars(symbol: "AAPL", from: "${isoOfMicros(watermark - MINUTE_US)}", to: "${isoOfMicros(watermark)}") { ts }`;
    expect(await ask(`{ ${settledBars} symbols { symbol } }`)).toBe('miss');
    expect(await ask(`{ ${settledBars} __typename }`)).toBe('miss');
    expect(await ask(`{ ...F } fragment F on Query { ${settledBars} }`)).toBe('miss');
    expect(await ask('{ bars(symbol: "NOPE", from: "2026-11-01", to: "2026-11-02") { ts } }')).toBe(
      'miss',
    );
    expect(await ask(`{ ${settledBars} }`)).toBe('stored');
  });

  it('sends a kept answer gzipped, compressed once, to a client that accepts gzip', async () => {
    const watermark = platform.sink.watermark()!;
    const body = JSON.stringify({
      query: BARS,
      variables: { from: isoOfMicros(watermark - 80 * MINUTE_US), to: isoOfMicros(watermark) },
    });
    const truth = await raw(fresh, body, {});
    expect(truth.body.byteLength).toBeGreaterThan(1024);
    const first = await raw(cached, body, { 'accept-encoding': 'gzip, deflate, br' });
    // The first answer is computed and sent as it is; the kept entry is compressed after.
    expect([first.cache, first.encoding]).toEqual(['stored', undefined]);
    expect(first.body.equals(truth.body)).toBe(true);
    const hit = await raw(cached, body, { 'accept-encoding': 'gzip, deflate, br' });
    expect([hit.cache, hit.encoding, hit.vary]).toEqual(['hit', 'gzip', 'accept-encoding']);
    expect(hit.body.byteLength).toBeLessThan(truth.body.byteLength);
    expect(Number(hit.length)).toBe(hit.body.byteLength);
    expect(gunzipSync(hit.body).equals(truth.body)).toBe(true);
    // No Accept-Encoding, or gzip refused by its q-value: the identity bytes.
    const noGzip: Record<string, string>[] = [{}, { 'accept-encoding': 'gzip;q=0, identity' }];
    for (const headers of noGzip) {
      const plain = await raw(cached, body, headers);
      expect([plain.cache, plain.encoding]).toEqual(['hit', undefined]);
      expect(plain.body.equals(truth.body)).toBe(true);
    }
    // A small answer is never compressed.
    await raw(cached, JSON.stringify({ query: '{ lakeStatus { watermark } }' }), {});
    const small = await raw(cached, JSON.stringify({ query: '{ lakeStatus { watermark } }' }), {
      'accept-encoding': 'gzip',
    });
    expect([small.cache, small.encoding]).toEqual(['hit', undefined]);
  });

  it('answers a query the same whether it is interpreted (first run) or compiled (later runs)', async () => {
    const watermark = platform.sink.watermark()!;
    const range = { from: isoOfMicros(watermark - 20 * MINUTE_US) };
    const query = `query($from: DateTime) {
      bars(symbol: "MSFT", from: $from) { ts open high low close volume vwap tradeCount source }
      lakeStatus { watermark }
    }`;
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push((await post(fresh, query, range)).body);
    expect(runs[1]).toBe(runs[0]);
    expect(runs[2]).toBe(runs[0]);
    for (let i = 0; i < 3; i++) {
      const bad = JSON.parse(
        (await post(fresh, 'query($s: String!) { bars(symbol: $s) { ts } }', { s: 'NOPE' })).body,
      ) as { errors: { extensions: { code: string }; path: string[] }[] };
      expect(bad.errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
      expect(bad.errors[0]?.path).toEqual(['bars']);
    }
  });
});

describe('the guards still stand in front of a cached answer', () => {
  let limited: ApiServer;
  let allowListed: ApiServer;
  const LISTED = '{ lakeStatus { watermark } }';

  beforeAll(async () => {
    limited = await startLoopbackApi(platform, {
      responseCacheBytes: 8 << 20,
      rateLimit: { requests: 3, windowSeconds: 600, key: () => 'one client' },
    });
    allowListed = await startLoopbackApi(platform, {
      responseCacheBytes: 8 << 20,
      persistedQueries: { mode: 'allowlist', allowList: new Map([[sha256Hex(LISTED), LISTED]]) },
    });
  });

  afterAll(async () => {
    await limited?.close();
    await allowListed?.close();
  });

  it('counts cache hits against the rate limit and refuses past it with RATE_LIMITED', async () => {
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push((await post(limited, LISTED)).cache);
    expect(seen).toEqual(['stored', 'hit', 'hit']);
    const response = await fetch(limited.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: LISTED, variables: {} }),
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('alphalake-response-cache')).toBeNull();
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    const refusal = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(refusal.errors.map((e) => e.extensions.code)).toEqual(['RATE_LIMITED']);
  });

  it('never keeps nor serves an operation off the allow-list', async () => {
    const watermark = platform.sink.watermark()!;
    const variables = { from: isoOfMicros(watermark - 30 * MINUTE_US), to: isoOfMicros(watermark) };
    // The same request is kept by a server without an allow-list…
    await post(cached, BARS, variables);
    expect((await post(cached, BARS, variables)).cache).toBe('hit');
    // …and refused here every time, before it runs; the cache is not even consulted.
    for (let i = 0; i < 2; i++) {
      const answer = await post(allowListed, BARS, variables);
      expect(answer.cache).toBeNull();
      const body = JSON.parse(answer.body) as {
        data?: unknown;
        errors: { extensions: { code: string } }[];
      };
      expect(body.data).toBeUndefined();
      expect(body.errors.map((e) => e.extensions.code)).toEqual(['PERSISTED_QUERY_NOT_ALLOWED']);
    }
    expect((await post(allowListed, LISTED)).cache).toBe('stored');
    expect((await post(allowListed, LISTED)).cache).toBe('hit');
    // Sent by its hash alone, a listed operation is answered from the same entry.
    const byHash = await postBody(allowListed, {
      variables: {},
      extensions: persistedQuery(sha256Hex(LISTED)),
    });
    expect(byHash.cache).toBe('hit');
    expect(byHash.body).toBe((await post(fresh, LISTED, {})).body);
    // A hash off the list is Apollo's to refuse.
    const offList = await postBody(allowListed, { extensions: persistedQuery(sha256Hex(BARS)) });
    expect(offList.cache).toBeNull();
    expect(JSON.parse(offList.body).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('refuses past the rate limit before the cache is looked up, whatever the request', async () => {
    // A miss passed on to Express by the fast path spends the budget once: three requests
    // above were stored, hit, hit and the fourth refused; a fresh key refuses at once.
    const refused = await postBody(limited, { query: '{ lakeStatus { watermark } } ' });
    expect([refused.status, refused.cache]).toEqual([429, null]);
  });
});

/** An APQ extension (Apollo's "Automatic persisted queries": version 1, SHA-256 hex). */
function persistedQuery(sha256Hash: string): {
  persistedQuery: { version: 1; sha256Hash: string };
} {
  return { persistedQuery: { version: 1, sha256Hash } };
}

/** A POST of any JSON body, with the response's status, body, cache outcome and request id. */
async function postBody(
  server: ApiServer,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; cache: string | null; requestId: string | null }> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: await response.text(),
    cache: response.headers.get('alphalake-response-cache'),
    requestId: response.headers.get('x-request-id'),
  };
}

describe('hash-only persisted queries (APQ) and the response cache', () => {
  it('answers a hash-only request from the cache, once Apollo has registered its text', async () => {
    const watermark = platform.sink.watermark()!;
    const query = `query ByHash($from: DateTime, $to: DateTime) {
      bars(symbol: "MSFT", from: $from, to: $to) { ts open close volume }
    }`;
    const variables = { from: isoOfMicros(watermark - 40 * MINUTE_US), to: isoOfMicros(watermark) };
    const hash = sha256Hex(query);
    const truth = await post(fresh, query, variables);
    // Unknown hash: Apollo asks for the text (APQ), nothing is kept or served.
    const unknown = await postBody(cached, { variables, extensions: persistedQuery(hash) });
    expect(unknown.cache).toBeNull();
    expect(JSON.parse(unknown.body).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    // Text with its hash: registered and kept.
    const registered = await postBody(cached, {
      query,
      variables,
      extensions: persistedQuery(hash),
    });
    expect([registered.cache, registered.body]).toEqual(['stored', truth.body]);
    // The hash alone now runs the same document, and is answered from the same entry.
    for (let i = 0; i < 2; i++) {
      const byHash = await postBody(cached, { variables, extensions: persistedQuery(hash) });
      expect([byHash.cache, byHash.body]).toEqual(['hit', truth.body]);
    }
    // Other variables are another answer: kept on the first hash-only request.
    const other = { ...variables, from: isoOfMicros(watermark - 50 * MINUTE_US) };
    const otherTruth = await post(fresh, query, other);
    for (const outcome of ['stored', 'hit']) {
      const byHash = await postBody(cached, { variables: other, extensions: persistedQuery(hash) });
      expect([byHash.cache, byHash.body]).toEqual([outcome, otherTruth.body]);
    }
    // A text already kept, registered by its hash: answered from the cache in Apollo's
    // place, and registered as Apollo would, so the hash alone finds it next.
    const kept = '{ lakeStatus { watermark } }';
    const keptTruth = await post(fresh, kept);
    await post(cached, kept);
    expect((await post(cached, kept)).cache).toBe('hit');
    const withHash = await postBody(cached, {
      query: kept,
      variables: {},
      extensions: persistedQuery(sha256Hex(kept)),
    });
    expect([withHash.cache, withHash.body]).toEqual(['hit', keptTruth.body]);
    const keptByHash = await postBody(cached, {
      variables: {},
      extensions: persistedQuery(sha256Hex(kept)),
    });
    expect([keptByHash.cache, keptByHash.body]).toEqual(['hit', keptTruth.body]);
    // A text sent with a hash that is not its own is Apollo's error, never the kept answer.
    const mismatched = await postBody(cached, {
      query,
      variables,
      extensions: persistedQuery(sha256Hex(`${query} `)),
    });
    expect([mismatched.status, mismatched.cache]).toEqual([400, null]);
    const refused = JSON.parse(mismatched.body) as {
      data?: unknown;
      errors: { message: string; extensions: { code: string } }[];
    };
    expect(refused.data).toBeUndefined();
    // A client error with a stable code and the rule it broke, not a masked INTERNAL.
    expect(refused.errors).toEqual([
      {
        message:
          'provided sha does not match query: extensions.persistedQuery.sha256Hash must be the SHA-256 (hex) of the query sent with it',
        extensions: { code: 'BAD_REQUEST' },
      },
    ]);
  });
});

describe('a hit answered ahead of Express keeps the request id, the metrics and the log', () => {
  it('returns the client’s x-request-id or a new one, and counts each hit under its operation', async () => {
    const query = 'query StatusForMetrics { lakeStatus { watermark } }';
    const requests = async () => {
      const text = await (await fetch(cached.url.replace('/graphql', '/metrics'))).text();
      const count =
        /^alphalake_graphql_request_duration_seconds_count\{operation="StatusForMetrics",type="query"\} (\d+)$/m.exec(
          text,
        );
      return Number(count?.[1] ?? 0);
    };
    const first = await postBody(cached, { query });
    expect(first.cache).toBe('stored');
    const before = await requests();
    const given = await postBody(cached, { query }, { 'x-request-id': 'trace-7f3a.b:1/2' });
    const made = await postBody(cached, { query });
    const junk = await postBody(cached, { query }, { 'x-request-id': 'no spaces allowed' });
    expect([given.cache, made.cache, junk.cache]).toEqual(['hit', 'hit', 'hit']);
    expect(given.requestId).toBe('trace-7f3a.b:1/2');
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(made.requestId).toMatch(uuid);
    expect(junk.requestId).toMatch(uuid);
    expect(made.requestId).not.toBe(junk.requestId);
    expect(await requests()).toBe(before + 3);
  });

  it('logs one access line per hit, with its request id and operation', async () => {
    const lines: string[] = [];
    const logged = await startLoopbackApi(platform, {
      responseCacheBytes: 8 << 20,
      logger: createLogger({ destination: { write: (line: string) => void lines.push(line) } }),
    });
    try {
      const query = 'query StatusForLog { lakeStatus { watermark } }';
      expect((await postBody(logged, { query })).cache).toBe('stored');
      const hit = await postBody(logged, { query }, { 'x-request-id': 'hit-for-the-log' });
      expect(hit.cache).toBe('hit');
      const access = lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line['requestId'] === 'hit-for-the-log');
      expect(access).toHaveLength(1);
      expect(access[0]).toMatchObject({
        msg: 'request',
        method: 'POST',
        path: '/graphql',
        status: 200,
        operation: 'StatusForLog',
      });
    } finally {
      await logged.close();
    }
  });
});
