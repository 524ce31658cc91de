import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * Local servers that speak Polygon's REST and WebSocket wire formats and Yahoo's chart
 * endpoint from the fixture files under test/fixtures (the sources under test talk to
 * them over real sockets). Fixture records are kept as the text of their line, so a
 * nanosecond timestamp above 2^53 reaches the client exactly as written.
 */

const FIXTURES = new URL('../../../test/fixtures/', import.meta.url);

/** A fixture list: one JSON object per line, each kept as its text. */
export function fixtureLines(name: string): string[] {
  return readFileSync(new URL(name, FIXTURES), 'utf8')
    .split('\n')
    .map((line) => line.trim().replace(/,$/, ''))
    .filter((line) => line.startsWith('{'));
}

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}

/** A digit field of a raw record, as a bigint (read from the text, not through JSON.parse). */
export function rawBigInt(line: string, field: string): bigint {
  const match = new RegExp(`"${field}":(\\d+)`).exec(line);
  if (!match) throw new Error(`${field} not in ${line}`);
  return BigInt(match[1] as string);
}

/** An answer the server gives instead of the page, once, in order. */
export interface Fault {
  readonly status: number;
  readonly body?: string;
  readonly retryAfter?: string;
}

export interface PolygonServerOptions {
  readonly apiKey: string;
  /** path → fixture file (list endpoints paginate it by `limit`). */
  readonly routes: Readonly<Record<string, string>>;
  /**
   * Exact path → fixture file of one object, answered as `{"results": <object>}` (the
   * details endpoints, `/v3/reference/tickers/{ticker}`). Checked before `routes`.
   */
  readonly details?: Readonly<Record<string, string>>;
  /** path → faults served before the real answers of that path. */
  readonly faults?: Record<string, Fault[]>;
  /** path → page index (0-based) whose body is replaced by this text. */
  readonly malformedPages?: Record<string, { page: number; body: string }>;
}

export interface RequestLog {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
}

export interface VendorServer {
  readonly url: string;
  readonly requests: RequestLog[];
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

/**
 * Polygon's REST API: `Authorization: Bearer` checked (401 NOT_AUTHORIZED otherwise),
 * `limit` pages with an opaque `cursor` in `next_url`, `timestamp.gte`/`timestamp.lt`
 * filtering by `sip_timestamp` on v3 trades and quotes, and scripted faults.
 */
export async function startPolygonRest(options: PolygonServerOptions): Promise<VendorServer> {
  const requests: RequestLog[] = [];
  const faults = options.faults ?? {};
  const served = new Map<string, number>();
  let base = '';
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', base);
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
    });
    if (req.headers.authorization !== `Bearer ${options.apiKey}`) {
      send(
        res,
        401,
        JSON.stringify({ status: 'NOT_AUTHORIZED', request_id: 'r', message: 'Unknown API Key' }),
      );
      return;
    }
    const detail = options.details?.[url.pathname];
    const detailFault = detail === undefined ? undefined : faults[url.pathname]?.shift();
    if (detailFault) {
      send(
        res,
        detailFault.status,
        detailFault.body ?? JSON.stringify({ status: 'ERROR', request_id: 'r' }),
        detailFault.retryAfter !== undefined ? { 'retry-after': detailFault.retryAfter } : {},
      );
      return;
    }
    if (detail !== undefined) {
      send(
        res,
        200,
        `{"request_id":"req-${requests.length}","results":${fixtureText(detail).trim()},"status":"OK"}`,
      );
      return;
    }
    // A details path of a ticker with no fixture: Polygon's 404 (not the list's route).
    if (url.pathname.startsWith('/v3/reference/tickers/')) {
      send(
        res,
        404,
        JSON.stringify({ status: 'NOT_FOUND', request_id: 'r', message: 'Ticker not found.' }),
      );
      return;
    }
    const route = Object.keys(options.routes).find(
      (p) => url.pathname === p || url.pathname.startsWith(`${p}/`),
    );
    if (!route) {
      send(
        res,
        404,
        JSON.stringify({ status: 'NOT_FOUND', request_id: 'r', message: 'Not found' }),
      );
      return;
    }
    const fault = faults[route]?.shift();
    if (fault) {
      send(
        res,
        fault.status,
        fault.body ??
          JSON.stringify({ status: 'ERROR', request_id: 'r', error: `fault ${fault.status}` }),
        fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {},
      );
      return;
    }
    const pageIndex = served.get(route) ?? 0;
    served.set(route, pageIndex + 1);
    const malformed = options.malformedPages?.[route];
    if (malformed && malformed.page === pageIndex) {
      send(res, 200, malformed.body);
      return;
    }
    let lines = fixtureLines(options.routes[route] as string);
    const gte = url.searchParams.get('timestamp.gte');
    const lt = url.searchParams.get('timestamp.lt');
    if (gte !== null) lines = lines.filter((l) => rawBigInt(l, 'sip_timestamp') >= BigInt(gte));
    if (lt !== null) lines = lines.filter((l) => rawBigInt(l, 'sip_timestamp') < BigInt(lt));
    // The v3 reference endpoints filter by `ticker` (splits, dividends).
    const ticker = url.searchParams.get('ticker');
    if (ticker !== null && url.pathname.startsWith('/v3/reference/'))
      lines = lines.filter((l) => l.includes(`"ticker":${JSON.stringify(ticker)}`));
    // The ticker list ("All Tickers"): `active` (Polygon's default true), `market`, the
    // ticker range filters, and `sort=ticker` (`order` asc or desc).
    if (url.pathname === '/v3/reference/tickers') {
      const field = (line: string, key: string) =>
        (JSON.parse(line) as Record<string, unknown>)[key];
      const active = (url.searchParams.get('active') ?? 'true') === 'true';
      lines = lines.filter((l) => (field(l, 'active') !== false) === active);
      const market = url.searchParams.get('market');
      if (market !== null) lines = lines.filter((l) => field(l, 'market') === market);
      const tickerOf = (l: string) => String(field(l, 'ticker'));
      const bounds: [string, (t: string, b: string) => boolean][] = [
        ['ticker.gte', (t, b) => t >= b],
        ['ticker.gt', (t, b) => t > b],
        ['ticker.lte', (t, b) => t <= b],
        ['ticker.lt', (t, b) => t < b],
      ];
      for (const [param, keep] of bounds) {
        const bound = url.searchParams.get(param);
        if (bound !== null) lines = lines.filter((l) => keep(tickerOf(l), bound));
      }
      if (url.searchParams.get('sort') === 'ticker') {
        const sign = url.searchParams.get('order') === 'desc' ? -1 : 1;
        lines = [...lines].sort((a, b) =>
          tickerOf(a) === tickerOf(b) ? 0 : tickerOf(a) < tickerOf(b) ? -sign : sign,
        );
      }
    }
    const limit = Number(url.searchParams.get('limit') ?? '1000');
    const cursor = url.searchParams.get('cursor');
    const offset = cursor === null ? 0 : Number(Buffer.from(cursor, 'base64url').toString());
    const page = lines.slice(offset, offset + limit);
    const next = new URL(url.pathname, base);
    for (const [k, v] of url.searchParams) if (k !== 'cursor') next.searchParams.set(k, v);
    next.searchParams.set('cursor', Buffer.from(String(offset + limit)).toString('base64url'));
    const nextUrl =
      offset + limit < lines.length ? `,"next_url":${JSON.stringify(next.toString())}` : '';
    send(
      res,
      200,
      `{"results":[${page.join(',')}],"status":"OK","request_id":"req-${requests.length}","count":${page.length}${nextUrl}}`,
    );
  });
  base = await listen(server);
  return {
    url: base,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A Polygon trade fixture line as a WebSocket `T` event (`t` in ms, as the socket sends it). */
export function tradeEvent(symbol: string, line: string): Record<string, unknown> {
  const r = JSON.parse(line) as Record<string, unknown>;
  return {
    ev: 'T',
    sym: symbol,
    x: r['exchange'],
    i: r['id'],
    z: r['tape'],
    p: r['price'],
    s: r['size'],
    c: r['conditions'],
    t: Number(rawBigInt(line, 'sip_timestamp') / 1_000_000n),
    q: r['sequence_number'],
    ...(r['trf_id'] !== undefined
      ? { trfi: r['trf_id'], trft: Number(rawBigInt(line, 'trf_timestamp') / 1_000_000n) }
      : {}),
  };
}

export interface PolygonSocketServer {
  readonly url: string;
  /** Messages the clients sent, in order, per connection. */
  readonly received: string[][];
  /** Resolves with each connection once it has subscribed. */
  subscribed(connection: number): Promise<WebSocket>;
  close(): Promise<void>;
}

/**
 * Polygon's stocks WebSocket: `connected` status on open, `auth` checked against the key
 * (`auth_success` / `auth_failed`), `subscribe` answered with one `success` per param.
 */
export async function startPolygonSocket(apiKey: string): Promise<PolygonSocketServer> {
  const server = createServer();
  const wss = new WebSocketServer({ server });
  const received: string[][] = [];
  const waiters = new Map<
    number,
    { promise: Promise<WebSocket>; resolve: (ws: WebSocket) => void }
  >();
  const waiter = (n: number) => {
    let entry = waiters.get(n);
    if (!entry) {
      let resolve!: (ws: WebSocket) => void;
      const promise = new Promise<WebSocket>((r) => (resolve = r));
      entry = { promise, resolve };
      waiters.set(n, entry);
    }
    return entry;
  };
  wss.on('connection', (ws) => {
    const n = received.length;
    const log: string[] = [];
    received.push(log);
    ws.send(
      JSON.stringify([{ ev: 'status', status: 'connected', message: 'Connected Successfully' }]),
    );
    ws.on('message', (data) => {
      const text = data.toString();
      log.push(text);
      const message = JSON.parse(text) as { action: string; params: string };
      if (message.action === 'auth') {
        const ok = message.params === apiKey;
        ws.send(
          JSON.stringify([
            ok
              ? { ev: 'status', status: 'auth_success', message: 'authenticated' }
              : { ev: 'status', status: 'auth_failed', message: 'authentication failed' },
          ]),
        );
        if (!ok) ws.close();
      } else if (message.action === 'subscribe') {
        ws.send(
          JSON.stringify(
            message.params
              .split(',')
              .map((p) => ({ ev: 'status', status: 'success', message: `subscribed to: ${p}` })),
          ),
        );
        waiter(n).resolve(ws);
      }
    });
  });
  const base = await listen(server);
  return {
    url: base.replace(/^http/, 'ws'),
    received,
    subscribed: (n) => waiter(n).promise,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Yahoo's chart endpoint: `/v8/finance/chart/{symbol}` from `yahoo/chart-{symbol}.json`, 404 with the chart error otherwise. */
export async function startYahoo(options: {
  faults?: Fault[];
  symbols: Record<string, string>;
}): Promise<VendorServer> {
  const requests: RequestLog[] = [];
  const faults = options.faults ?? [];
  const server = createServer((req, res) => {
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
    });
    const fault = faults.shift();
    if (fault) {
      send(
        res,
        fault.status,
        fault.body ?? 'Too Many Requests',
        fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {},
      );
      return;
    }
    const symbol = decodeURIComponent(
      /^\/v8\/finance\/chart\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? '',
    );
    const file = options.symbols[symbol];
    if (file) send(res, 200, fixtureText(file));
    else send(res, 404, fixtureText('yahoo/chart-NOTFOUND.json'));
  });
  const base = await listen(server);
  return {
    url: base,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
