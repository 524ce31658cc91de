import { startLoopbackApi } from '../support/api.js';
import { capturedLogger } from '../support/log-capture.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createClient } from 'graphql-ws';
import { createPlatform, type Platform } from '../../src/app.js';
import { configWith } from '../../src/config/index.js';
import { ManualClock, SECOND_US } from '../../src/domain/index.js';
import { sha256Hex, type ApiServer } from '../../src/graphql/index.js';

/**
 * The API's operational side against a real platform on loopback: limits refused before
 * execution with their codes, the rate limit, persisted queries, `/metrics` in the
 * Prometheus text format, JSON logs with request ids and without secrets.
 */
const T0 = Date.parse('2026-11-20T15:07:30Z') * 1_000; // µs
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-it-limits-'));
// A scan bound far below one session of history: every bars query over the lake is refused.
// Auth off: the limits hold before and without authentication (the rate limit counts per IP).
const config = configWith({ home, port: 0, backfillSessions: 1, maxScanRows: 10, authMode: 'off' });
const logs = capturedLogger();
const SECRET = 'Bearer sk-live-0123456789-very-secret';
const ALLOWED = '{ lakeStatus { watermark } }';
const clock = new ManualClock(T0);
let platform: Platform;
let server: ApiServer;
let limited: ApiServer;
let allowListed: ApiServer;

interface GraphQLAnswer {
  status: number;
  headers: Headers;
  body: {
    data?: unknown;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
}

async function post(
  target: ApiServer,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GraphQLAnswer> {
  const response = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as GraphQLAnswer['body'],
  };
}

const codes = (answer: GraphQLAnswer) =>
  (answer.body.errors ?? []).map((error) => error.extensions?.['code']);

beforeAll(async () => {
  platform = await createPlatform(config, { clock, logger: logs.logger });
  await platform.start({ live: false });
  server = await startLoopbackApi(platform, { logger: logs.logger });
  limited = await startLoopbackApi(platform, {
    logger: logs.logger,
    rateLimit: {
      requests: 20,
      windowSeconds: 600,
      // A client names itself in a header here, so two clients share one address.
      key: (req) => String(req.headers['x-client'] ?? 'anonymous'),
    },
  });
  allowListed = await startLoopbackApi(platform, {
    logger: logs.logger,
    persistedQueries: { mode: 'allowlist', allowList: new Map([[sha256Hex(ALLOWED), ALLOWED]]) },
  });
});

afterAll(async () => {
  await server?.close();
  await limited?.close();
  await allowListed?.close();
  await platform?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('limits, refused before execution', () => {
  it('refuses a query 50 levels deep with QUERY_TOO_DEEP', async () => {
    // The schema is shallow; introspection's __Type.ofType nests as deep as one likes.
    const query = `{ __type(name: "Bar") { ${'ofType { '.repeat(48)}name${' }'.repeat(48)} } }`;
    const answer = await post(server, { query });
    expect(answer.status).toBe(400);
    expect(answer.body.data).toBeUndefined();
    expect(codes(answer)).toEqual(['QUERY_TOO_DEEP']);
    expect(answer.body.errors?.[0]?.message).toBe('Query depth limit of 12 exceeded, found 50.');
  });

  it('counts depth through fragments', async () => {
    const fragments = Array.from(
      { length: 20 },
      (_, i) => `fragment F${i} on __Type { ofType { ${i < 19 ? `...F${i + 1}` : 'name'} } }`,
    ).join('\n');
    const answer = await post(server, { query: `{ __type(name: "Bar") { ...F0 } }\n${fragments}` });
    expect(answer.body.data).toBeUndefined();
    expect(codes(answer)).toContain('QUERY_TOO_DEEP');
  });

  it('refuses a million rows asked for with QUERY_TOO_COMPLEX', async () => {
    const fields = Array.from(
      { length: 10 },
      (_, i) => `b${i}: bars(symbol: "AAPL", limit: 100000) { ts close }`,
    );
    const answer = await post(server, { query: `{ ${fields.join(' ')} }` });
    expect(answer.body.data).toBeUndefined();
    expect(codes(answer)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({
      cost: 1_000_000,
      maxCost: 200_000,
    });
  });

  it('refuses a million rows hidden in a fragment', async () => {
    const answer = await post(server, {
      query: `{ ...Many } fragment Many on Query { ${Array.from(
        { length: 10 },
        (_, i) => `t${i}: trades(symbol: "AAPL", limit: 100000) { ts }`,
      ).join(' ')} }`,
    });
    expect(answer.body.data).toBeUndefined();
    expect(codes(answer)).toEqual(['QUERY_TOO_COMPLEX']);
  });

  it('counts barsMany as its limit times its symbols', async () => {
    const symbols = JSON.stringify(['AAPL', 'MSFT', 'NVDA']);
    const answer = await post(server, {
      query: `{ barsMany(symbols: ${symbols}, limit: 70000) { symbol } }`,
    });
    expect(answer.body.data).toBeUndefined();
    expect(codes(answer)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({ cost: 210_000 });
  });

  it('counts barsMany(symbols: $s) as its limit times the length of $s', async () => {
    const query =
      'query Many($s: [String!]!, $n: Int) { barsMany(symbols: $s, limit: $n) { symbol } }';
    // Validation alone counted $s as one symbol and $n as the default (20,000 rows).
    const answer = await post(server, {
      query,
      variables: { s: ['AAPL', 'MSFT', 'NVDA'], n: 70_000 },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.data).toBeUndefined();
    expect(codes(answer)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({ cost: 210_000, maxCost: 200_000 });
    // Eleven symbols at the default limit: 220,000 rows.
    const eleven = Array.from({ length: 11 }, (_, i) => `S${i}`);
    const byDefault = await post(server, { query, variables: { s: eleven } });
    expect(codes(byDefault)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(byDefault.body.errors?.[0]?.extensions).toMatchObject({ cost: 220_000 });
    // A default value in the operation counts when the request leaves the variable out.
    const defaulted = await post(server, {
      query: `query($s: [String!]! = ${JSON.stringify(eleven)}) { barsMany(symbols: $s) { symbol } }`,
    });
    expect(codes(defaulted)).toEqual(['QUERY_TOO_COMPLEX']);
    // Within the limit it runs (over a day before any history: this server's scan bound
    // of 10 rows refuses any range that holds bars).
    const fine = await post(server, {
      query:
        'query Many($s: [String!]!, $n: Int) { barsMany(symbols: $s, limit: $n, from: "2020-01-01T00:00:00Z", to: "2020-01-02T00:00:00Z") { symbol } }',
      variables: { s: ['AAPL', 'MSFT'], n: 70_000 },
    });
    expect(fine.status).toBe(200);
    expect(fine.body.errors).toBeUndefined();
    expect(fine.body.data).toEqual({ barsMany: [{ symbol: 'AAPL' }, { symbol: 'MSFT' }] });
  });

  it('refuses a page given by a variable over the largest one with PAGE_TOO_LARGE', async () => {
    const answer = await post(server, {
      query: 'query($n: Int) { trades(symbol: "AAPL", limit: $n) { ts } }',
      variables: { n: 1_000_000 },
    });
    expect(answer.body.data).toBeUndefined();
    expect(codes(answer)).toEqual(['PAGE_TOO_LARGE']);
    const page = await post(server, {
      query:
        'query($first: Int) { quotes(symbol: "AAPL", first: $first) { pageInfo { hasNextPage } } }',
      variables: { first: 150_000 },
    });
    expect(codes(page)).toEqual(['PAGE_TOO_LARGE']);
  });

  it('counts variables over WebSocket too', async () => {
    const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const errors = await new Promise<readonly { extensions?: Record<string, unknown> }[]>(
        (resolve, reject) => {
          client.subscribe(
            {
              query: 'query($s: [String!]!) { barsMany(symbols: $s, limit: 70000) { symbol } }',
              variables: { s: ['AAPL', 'MSFT', 'NVDA'] },
            },
            {
              next: () => reject(new Error('the operation ran')),
              error: (error) => resolve(error as { extensions?: Record<string, unknown> }[]),
              complete: () => reject(new Error('the operation completed')),
            },
          );
        },
      );
      expect(errors.map((error) => error.extensions?.['code'])).toEqual(['QUERY_TOO_COMPLEX']);
    } finally {
      await client.dispose();
    }
  });

  it("counts connections' first", async () => {
    const fields = Array.from(
      { length: 3 },
      (_, i) =>
        `c${i}: tradesConnection(symbol: "AAPL", first: 70000) { pageInfo { hasNextPage } }`,
    );
    const answer = await post(server, { query: `{ ${fields.join(' ')} }` });
    expect(answer.body.data).toBeUndefined();
    expect(codes(answer)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({ cost: 210_000 });
    const page = await post(server, {
      query: '{ quotes(symbol: "AAPL", first: 150000) { pageInfo { hasNextPage } } }',
    });
    expect(codes(page)).toEqual(['PAGE_TOO_LARGE']);
  });

  it('refuses a page over the largest one with PAGE_TOO_LARGE', async () => {
    const answer = await post(server, {
      query: '{ trades(symbol: "AAPL", limit: 1000000) { ts } }',
    });
    expect(answer.body.data).toBeUndefined();
    expect(codes(answer)).toEqual(['PAGE_TOO_LARGE', 'QUERY_TOO_COMPLEX']);
  });

  it('refuses 10,000 aliases with TOO_MANY_ALIASES', async () => {
    const fields = Array.from({ length: 10_000 }, (_, i) => `a${i}: lakeStatus { watermark }`);
    const answer = await post(server, { query: `{ ${fields.join(' ')} }` });
    expect(answer.status).toBe(400);
    expect(answer.body.data).toBeUndefined();
    expect(codes(answer)[0]).toBe('TOO_MANY_ALIASES');
    expect(answer.body.errors?.[0]?.message).toBe('Aliases limit of 30 exceeded, found 10000.');
  });

  it('refuses too many directives with TOO_MANY_DIRECTIVES', async () => {
    const directives = '@include(if: true) '.repeat(60);
    const answer = await post(server, { query: `{ lakeStatus ${directives}{ watermark } }` });
    expect(answer.body.data).toBeUndefined();
    expect(codes(answer)).toContain('TOO_MANY_DIRECTIVES');
  });

  it('refuses a lake query whose files hold more rows than API_MAX_SCAN_ROWS with QUERY_TOO_EXPENSIVE', async () => {
    const watermark = platform.sink.watermark()!;
    const answer = await post(server, {
      query: 'query($to: DateTime) { bars(symbol: "AAPL", to: $to) { ts } }',
      variables: { to: new Date(watermark / 1000).toISOString() },
    });
    expect(codes(answer)).toEqual(['QUERY_TOO_EXPENSIVE']);
    const extensions = answer.body.errors?.[0]?.extensions ?? {};
    expect(extensions['maxScanRows']).toBe(10);
    expect(extensions['estimatedRows']).toBeGreaterThan(10);
  });

  it('still answers a query within every limit', async () => {
    const answer = await post(server, { query: ALLOWED });
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
  });
});

describe('rate limit', () => {
  it('refuses a flood over the limit with RATE_LIMITED and a retry hint, and leaves other clients alone', async () => {
    const flood = await Promise.all(
      Array.from({ length: 60 }, () => post(limited, { query: ALLOWED }, { 'x-client': 'flood' })),
    );
    const served = flood.filter((answer) => answer.status === 200);
    const refused = flood.filter((answer) => answer.status === 429);
    expect(served).toHaveLength(20);
    expect(refused).toHaveLength(40);
    for (const answer of refused) {
      expect(codes(answer)).toEqual(['RATE_LIMITED']);
      const retryAfter = Number(answer.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(600);
      expect(answer.body.errors?.[0]?.extensions?.['retryAfterSeconds']).toBe(retryAfter);
    }
    const other = await post(limited, { query: ALLOWED }, { 'x-client': 'calm' });
    expect(other.status).toBe(200);
    expect(other.body.errors).toBeUndefined();
  });

  it('refuses a WebSocket handshake over the limit the same way', async () => {
    const refusal = await new Promise<{ status: number; retryAfter: string; body: string }>(
      (resolve, reject) => {
        const socket = new WebSocket(limited.wsUrl, 'graphql-transport-ws', {
          headers: { 'x-client': 'flood' },
        });
        socket.on('open', () => reject(new Error('the handshake was accepted')));
        socket.on('error', () => {});
        socket.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              retryAfter: String(res.headers['retry-after']),
              body,
            }),
          );
        });
      },
    );
    expect(refusal.status).toBe(429);
    expect(Number(refusal.retryAfter)).toBeGreaterThan(0);
    const body = JSON.parse(refusal.body) as GraphQLAnswer['body'];
    expect(body.errors?.[0]?.extensions).toEqual({
      code: 'RATE_LIMITED',
      retryAfterSeconds: Number(refusal.retryAfter),
    });
  });
});

describe('persisted queries', () => {
  it('runs automatic persisted queries: an unknown hash, then the text once, then the hash alone', async () => {
    const query = '{ lakeStatus { watermarkMicros } }';
    const persistedQuery = { version: 1, sha256Hash: sha256Hex(query) };
    const unknown = await post(server, { extensions: { persistedQuery } });
    expect(codes(unknown)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    const registered = await post(server, { query, extensions: { persistedQuery } });
    expect(registered.body.errors).toBeUndefined();
    const byHash = await post(server, { extensions: { persistedQuery } });
    expect(byHash.body).toEqual(registered.body);
  });

  it('refuses a subscription that is not on the allow-list over WebSocket too', async () => {
    const client = createClient({ url: allowListed.wsUrl, webSocketImpl: WebSocket, lazy: true });
    try {
      const errors = await new Promise<readonly { extensions?: Record<string, unknown> }[]>(
        (resolve, reject) => {
          client.subscribe(
            { query: 'subscription { trades(symbols: ["AAPL"]) { symbol } }' },
            {
              next: () => reject(new Error('a trade arrived')),
              error: (error) => resolve(error as { extensions?: Record<string, unknown> }[]),
              complete: () => reject(new Error('completed without an error')),
            },
          );
        },
      );
      expect(errors.map((error) => error.extensions?.['code'])).toEqual([
        'PERSISTED_QUERY_NOT_ALLOWED',
      ]);
    } finally {
      await client.dispose();
    }
  });

  it('runs only the allow-list in allowlist mode, by hash or by text', async () => {
    const persistedQuery = { version: 1, sha256Hash: sha256Hex(ALLOWED) };
    const byHash = await post(allowListed, { extensions: { persistedQuery } });
    expect(byHash.body.errors).toBeUndefined();
    expect(byHash.body.data).toBeDefined();
    const byText = await post(allowListed, { query: ALLOWED });
    expect(byText.body).toEqual(byHash.body);
    const other = await post(allowListed, { query: '{ symbols { symbol } }' });
    expect(other.body.data).toBeUndefined();
    expect(codes(other)).toEqual(['PERSISTED_QUERY_NOT_ALLOWED']);
    // A client cannot add to the list by sending a new query with its hash.
    const query = '{ lakeStatus { watermarkMicros } }';
    const register = { version: 1, sha256Hash: sha256Hex(query) };
    expect(
      codes(await post(allowListed, { query, extensions: { persistedQuery: register } })),
    ).toEqual(['PERSISTED_QUERY_NOT_ALLOWED']);
    expect(codes(await post(allowListed, { extensions: { persistedQuery: register } }))).toEqual([
      'PERSISTED_QUERY_NOT_FOUND',
    ]);
  });
});

describe('observability', () => {
  it('returns the request id it was given, or a new one', async () => {
    const given = await post(server, { query: ALLOWED }, { 'x-request-id': 'req-abc-123' });
    expect(given.headers.get('x-request-id')).toBe('req-abc-123');
    const generated = await post(server, { query: ALLOWED });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await post(server, { query: ALLOWED }, { 'x-request-id': 'a b"c' });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves /metrics in the Prometheus text format, with request, error, lake and process metrics', async () => {
    await post(server, { query: `query Watermark ${ALLOWED}` });
    // A minute of live trades through the speed layer: the ingest lag has something to say.
    clock.advance(60 * SECOND_US);
    await platform.feed!.pump(clock.now());
    const response = await fetch(new URL('/metrics', server.url));
    expect(response.headers.get('content-type')).toMatch(/^text\/plain;.*version=0\.0\.4/);
    const text = await response.text();
    const families = parsePrometheusTextFormat(text);
    const family = (name: string) => families.find((f) => f.name === name);
    const requests = family('alphalake_graphql_request_duration_seconds');
    expect(requests?.type).toBe('HISTOGRAM');
    // parse-prometheus-text-format 1.1.1 drops a histogram's labels when `le` comes first,
    // as prom-client writes it (the format allows any order): the series is read from the text.
    expect(text).toMatch(
      /^alphalake_graphql_request_duration_seconds_count\{operation="Watermark",type="query"\} [1-9]/m,
    );
    const errors = family('alphalake_graphql_errors_total');
    const byCode = new Map(errors?.metrics.map((m) => [m.labels?.['code'], Number(m.value)]));
    for (const code of ['QUERY_TOO_DEEP', 'QUERY_TOO_COMPLEX', 'TOO_MANY_ALIASES']) {
      expect(byCode.get(code)).toBeGreaterThan(0);
    }
    const versions = family('alphalake_lake_table_version');
    expect(versions?.metrics.map((m) => m.labels?.['table']).sort()).toEqual(
      [
        platform.tables.bars1m.tablePath,
        platform.tables.news.tablePath,
        platform.tables.quotes.tablePath,
        platform.tables.rejects.tablePath,
        platform.tables.trades.tablePath,
      ].sort(),
    );
    for (const name of [
      'alphalake_lake_rows_written_total',
      'alphalake_lake_watermark_lag_seconds',
      'alphalake_live_subscribers',
      'alphalake_live_messages_dropped_total',
      'alphalake_ingest_lag_seconds',
      'alphalake_graphql_websocket_connections',
      'alphalake_event_loop_delay_p99_seconds',
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(family(name), name).toBeDefined();
    }
  });

  it('logs one JSON object per line, each request with its id, and never a secret', async () => {
    await post(
      server,
      {
        query: 'query($token: String!) { lakeRows(table: $token, limit: 1) { table } }',
        variables: { token: SECRET },
      },
      { authorization: SECRET, 'x-api-key': SECRET, 'x-request-id': 'req-logged-1' },
    );
    // An internal error is logged with what caused it: the secret rides in its message's
    // neighbour fields, never in the line.
    logs.logger.info(
      { req: { headers: { authorization: SECRET } }, token: SECRET, user: { apiKey: SECRET } },
      'probe',
    );
    const text = logs.text();
    const lines = text.split('\n').filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(10);
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const record of records) {
      expect(typeof record['level']).toBe('string');
      expect(typeof record['time']).toBe('string');
    }
    const access = records.find((r) => r['msg'] === 'request' && r['requestId'] === 'req-logged-1');
    expect(access).toMatchObject({ method: 'POST', path: '/graphql', status: 200 });
    expect(records.some((r) => r['msg'] === 'request' && r['requestId'] === undefined)).toBe(false);
    const probe = records.find((r) => r['msg'] === 'probe');
    expect(probe).toMatchObject({ token: '[Redacted]', user: { apiKey: '[Redacted]' } });
    expect(text).not.toContain('sk-live-0123456789');
  });
});
