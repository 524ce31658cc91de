import WebSocket from 'ws';
import { AlphalakeError, type Bar, type Quote, type Trade } from '../../domain/index.js';
import type { Source, SourceRecord } from '../source.js';
import { RecordChannel, realSleep, type Sleep } from '../vendor/index.js';
import type { PolygonRestClient } from './rest-client.js';
import { conditionIds, FieldError, readRecord, tradeId } from './wire.js';

/** Polygon's stocks WebSocket channels: trades, quotes, second and minute aggregates. */
export type PolygonChannel = 'T' | 'Q' | 'A' | 'AM';

export const POLYGON_CHANNELS: readonly PolygonChannel[] = ['T', 'Q', 'A', 'AM'];

export const DEFAULT_POLYGON_WS_URL = 'wss://socket.polygon.io/stocks';

/** The slice of a `ws` WebSocket the source uses. */
export interface WebSocketLike {
  on(event: 'open', listener: () => void): unknown;
  on(event: 'message', listener: (data: WebSocket.RawData) => void): unknown;
  on(event: 'close', listener: (code: number) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  send(data: string): void;
  close(): void;
  terminate(): void;
}

/** A `status` event from the server (`connected`, `auth_success`, `success`, …). */
export interface PolygonStatus {
  readonly status: string;
  readonly message: string;
}

export interface PolygonWebSocketOptions {
  /** POLYGON_API_KEY: sent once, in the `auth` action; never logged. */
  readonly apiKey: string;
  /** POLYGON_WS_URL. @default wss://socket.polygon.io/stocks */
  readonly url?: string;
  readonly symbols: readonly string[];
  /** @default ['T', 'Q', 'AM'] */
  readonly channels?: readonly PolygonChannel[];
  /**
   * Fills the trades missed while disconnected, from `/v3/trades`. Without it a
   * reconnect resumes live and the gap stays open (said in the `gap` notice).
   */
  readonly rest?: PolygonRestClient;
  /** First reconnect delay, ms; doubles each failed attempt, with full jitter. @default 1000 */
  readonly reconnectBaseMs?: number;
  /** @default 30_000 */
  readonly reconnectMaxMs?: number;
  /** Trade ids remembered per symbol to drop what REST and the socket both deliver. @default 100_000 */
  readonly dedupeWindow?: number;
  /** Wall clock, ms. @default Date.now */
  readonly now?: () => number;
  readonly sleep?: Sleep;
  readonly random?: () => number;
  readonly connect?: (url: string) => WebSocketLike;
  /** Status events, reconnects and gap fills, for logs (never with the key). */
  readonly onEvent?: (event: PolygonSocketEvent) => void;
}

export type PolygonSocketEvent =
  | { readonly type: 'status'; readonly status: PolygonStatus }
  | { readonly type: 'disconnected'; readonly code: number; readonly reconnectInMs: number }
  | {
      readonly type: 'gap';
      readonly symbol: string;
      /** µs, inclusive. */
      readonly from: number;
      /** µs, exclusive. */
      readonly to: number;
      /** Trades from REST that the socket had not delivered. */
      readonly filled: number;
      /** Trades from REST already delivered (dropped by id). */
      readonly duplicates: number;
    };

/**
 * Polygon's real-time stocks feed (polygon.io/docs/stocks/ws_getting-started): on
 * `connected` the client sends `{"action":"auth","params":KEY}`, on `auth_success`
 * `{"action":"subscribe","params":"T.AAPL,Q.AAPL,…"}`; events arrive as JSON arrays.
 * When the socket drops, the source reconnects with backoff, authenticates and
 * subscribes again, then fetches each symbol's trades from its last trade seen (or the
 * drop) until the resubscription from REST, holding live events meanwhile, and drops by
 * trade id whatever both delivered. Quotes and aggregates are not back-filled: a quote is
 * superseded by the next, and bars are rebuilt from the trades by the speed layer.
 */
export class PolygonWebSocketSource implements Source {
  readonly name = 'polygon-ws';
  private readonly channels: readonly PolygonChannel[];
  private readonly now: () => number;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  /** Per symbol, ids of trades already emitted, oldest first (a Set keeps insertion order). */
  private readonly seen = new Map<string, Set<string>>();
  /** Per symbol, the event time (µs) of the latest trade emitted. */
  private readonly lastTrade = new Map<string, number>();

  constructor(private readonly options: PolygonWebSocketOptions) {
    if (options.apiKey.trim() === '') {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        'POLYGON_API_KEY is empty: the Polygon WebSocket needs an API key',
        {
          env: 'POLYGON_API_KEY',
        },
      );
    }
    if (options.symbols.length === 0) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        'the Polygon WebSocket source needs at least one symbol',
      );
    }
    this.channels = options.channels ?? ['T', 'Q', 'AM'];
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
  }

  async *records(signal: AbortSignal): AsyncIterable<readonly SourceRecord[]> {
    const channel = new RecordChannel<readonly SourceRecord[]>();
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const running = this.run(channel, stop.signal).then(
      () => channel.end(),
      (error: unknown) => (stop.signal.aborted ? channel.end() : channel.fail(error)),
    );
    try {
      for (;;) {
        const next = await channel.next();
        if (next.done) break;
        yield next.value;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      stop.abort();
      await running;
    }
  }

  /** Connects, and reconnects after each drop, until the signal aborts. */
  private async run(
    channel: RecordChannel<readonly SourceRecord[]>,
    signal: AbortSignal,
  ): Promise<void> {
    const url = this.options.url ?? DEFAULT_POLYGON_WS_URL;
    const baseMs = this.options.reconnectBaseMs ?? 1000;
    const maxMs = this.options.reconnectMaxMs ?? 30_000;
    // Before the first connection nothing was missed; after a drop, the gap starts at the
    // last event received.
    let gapStart: number | undefined;
    let failures = 0;
    while (!signal.aborted) {
      const session = await this.session(url, channel, signal, gapStart);
      if (signal.aborted) return;
      gapStart = session.lastEventUs ?? gapStart ?? session.subscribedAtUs;
      failures = session.subscribedAtUs === undefined ? failures + 1 : 0;
      const waitMs = Math.floor(this.random() * Math.min(maxMs, baseMs * 2 ** failures));
      this.options.onEvent?.({
        type: 'disconnected',
        code: session.closeCode,
        reconnectInMs: waitMs,
      });
      await this.sleep(waitMs, signal).catch(() => undefined);
    }
  }

  /**
   * One connection, from open to close. Resolves when it closes (for a reconnect); rejects
   * on `auth_failed`, which no reconnect can fix.
   */
  private session(
    url: string,
    channel: RecordChannel<readonly SourceRecord[]>,
    signal: AbortSignal,
    gapStart: number | undefined,
  ): Promise<{
    closeCode: number;
    subscribedAtUs: number | undefined;
    lastEventUs: number | undefined;
  }> {
    return new Promise((resolve, reject) => {
      const socket = (this.options.connect ?? ((u: string) => new WebSocket(u) as WebSocketLike))(
        url,
      );
      let subscribedAtUs: number | undefined;
      let lastEventUs: number | undefined;
      let settled = false;
      /** Live events held while the gap is filled from REST. */
      let held: SourceRecord[] | undefined;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        outcome();
      };
      const onAbort = () => {
        socket.close();
        finish(() => resolve({ closeCode: 1000, subscribedAtUs, lastEventUs }));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      socket.on('error', () => {
        // A 'close' follows every 'error' in ws; the reconnect happens there.
      });
      socket.on('close', (code) =>
        finish(() => resolve({ closeCode: code, subscribedAtUs, lastEventUs })),
      );
      socket.on('message', (data) => {
        const text = data.toString();
        let events: unknown;
        try {
          events = JSON.parse(text);
        } catch {
          channel.push([{ kind: 'malformed', raw: text, detail: 'WebSocket message is not JSON' }]);
          return;
        }
        const batch: SourceRecord[] = [];
        for (const event of Array.isArray(events) ? events : [events]) {
          if (typeof event !== 'object' || event === null) {
            batch.push({
              kind: 'malformed',
              raw: JSON.stringify(event),
              column: 'ev',
              detail: 'event is not an object',
            });
            continue;
          }
          const e = event as Record<string, unknown>;
          if (e['ev'] === 'status') {
            const status = { status: String(e['status']), message: String(e['message'] ?? '') };
            this.options.onEvent?.({ type: 'status', status });
            if (status.status === 'connected') {
              socket.send(JSON.stringify({ action: 'auth', params: this.options.apiKey }));
            } else if (status.status === 'auth_success') {
              const params = this.options.symbols
                .flatMap((s) => this.channels.map((c) => `${c}.${s}`))
                .join(',');
              socket.send(JSON.stringify({ action: 'subscribe', params }));
              subscribedAtUs = this.now() * 1000;
              if (gapStart !== undefined) {
                held = [];
                this.fillGap(gapStart, subscribedAtUs, channel, signal).then(
                  () => {
                    const live = this.dedupe(held ?? []);
                    held = undefined;
                    if (live.length > 0) channel.push(live);
                  },
                  (error: unknown) => {
                    socket.close();
                    finish(() => reject(error));
                  },
                );
              }
            } else if (status.status === 'auth_failed') {
              socket.close();
              finish(() =>
                reject(
                  new AlphalakeError(
                    'BAD_USER_INPUT',
                    `Polygon WebSocket refused the API key (${status.message})`,
                    {
                      env: 'POLYGON_API_KEY',
                    },
                  ),
                ),
              );
            }
            continue;
          }
          const record = eventRecord(e);
          if (record.kind === 'trade' || record.kind === 'quote') lastEventUs = record.value.ts;
          batch.push(record);
        }
        if (batch.length === 0) return;
        if (held) held.push(...batch);
        else {
          const out = this.dedupe(batch);
          if (out.length > 0) channel.push(out);
        }
      });
    });
  }

  /** Each symbol's trades in `[last trade seen or gapStart, subscribedAt)` from REST, deduplicated. */
  private async fillGap(
    gapStart: number,
    subscribedAt: number,
    channel: RecordChannel<readonly SourceRecord[]>,
    signal: AbortSignal,
  ): Promise<void> {
    if (!this.channels.includes('T')) return;
    for (const symbol of this.options.symbols) {
      const from = this.lastTrade.get(symbol) ?? gapStart;
      if (!this.options.rest) {
        this.options.onEvent?.({
          type: 'gap',
          symbol,
          from,
          to: subscribedAt,
          filled: 0,
          duplicates: 0,
        });
        continue;
      }
      let filled = 0;
      let received = 0;
      for await (const page of this.options.rest.trades(
        symbol,
        { from, to: subscribedAt },
        signal,
      )) {
        received += page.filter((r) => r.kind === 'trade').length;
        const fresh = this.dedupe(page);
        filled += fresh.filter((r) => r.kind === 'trade').length;
        if (fresh.length > 0) channel.push(fresh);
      }
      this.options.onEvent?.({
        type: 'gap',
        symbol,
        from,
        to: subscribedAt,
        filled,
        duplicates: received - filled,
      });
    }
  }

  /** Drops trades already emitted (same symbol and id) and remembers the rest. */
  private dedupe(records: readonly SourceRecord[]): SourceRecord[] {
    const window = this.options.dedupeWindow ?? 100_000;
    return records.filter((record) => {
      if (record.kind !== 'trade') return true;
      const { symbol, id, ts } = record.value;
      let ids = this.seen.get(symbol);
      if (!ids) this.seen.set(symbol, (ids = new Set()));
      if (ids.has(id)) return false;
      ids.add(id);
      if (ids.size > window) ids.delete(ids.values().next().value as string);
      this.lastTrade.set(symbol, Math.max(this.lastTrade.get(symbol) ?? ts, ts));
      return true;
    });
  }
}

/**
 * One market event. Field names are Polygon's (stocks WebSocket docs): trades `sym x i z
 * p s c t q` (+ `trfi` `trft`), quotes `sym bx bp bs ax ap as c i t q z`, aggregates
 * `sym v av op vw o c h l a z s e`; times are Unix ms.
 */
function eventRecord(e: Record<string, unknown>): SourceRecord {
  switch (e['ev']) {
    case 'T':
      return readRecord(e, () => {
        const exchange = field(e, 'x');
        const trf = typeof e['trfi'] === 'number' ? e['trfi'] : undefined;
        const value: Trade = {
          symbol: text(e, 'sym'),
          ts: field(e, 't') * 1000,
          seq: field(e, 'q'),
          price: field(e, 'p'),
          size: field(e, 's'),
          id: tradeId(text(e, 'i'), exchange, trf),
          exchange: String(exchange),
        };
        const conditions = conditionIds(e, 'c');
        return { kind: 'trade', value: conditions ? { ...value, conditions } : value };
      });
    case 'Q':
      return readRecord(e, () => {
        const value: Quote = {
          symbol: text(e, 'sym'),
          ts: field(e, 't') * 1000,
          bidPrice: field(e, 'bp'),
          bidSize: field(e, 'bs'),
          askPrice: field(e, 'ap'),
          askSize: field(e, 'as'),
        };
        return { kind: 'quote', value };
      });
    case 'A':
    case 'AM':
      return readRecord(e, () => {
        const volume = field(e, 'v');
        const averageSize = field(e, 'z');
        const value: Bar = {
          symbol: text(e, 'sym'),
          interval: e['ev'] === 'A' ? '1s' : '1m',
          ts: field(e, 's') * 1000,
          open: field(e, 'o'),
          high: field(e, 'h'),
          low: field(e, 'l'),
          close: field(e, 'c'),
          volume,
          vwap: field(e, 'vw'),
          // The socket sends the average trade size (`z`), not the count: volume / z.
          tradeCount: averageSize > 0 ? Math.round(volume / averageSize) : 0,
        };
        return { kind: 'bar', value };
      });
    default:
      return {
        kind: 'malformed',
        raw: JSON.stringify(e),
        column: 'ev',
        detail: `unknown event type ${JSON.stringify(e['ev'])}`,
      };
  }
}

function field(e: Record<string, unknown>, key: string): number {
  const value = e[key];
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw fieldError(key, value);
}

function text(e: Record<string, unknown>, key: string): string {
  const value = e[key];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  throw fieldError(key, value);
}

function fieldError(key: string, value: unknown): Error {
  return new FieldError(
    key,
    `${key} is ${value === undefined ? 'missing' : `invalid: ${JSON.stringify(value)}`}`,
  );
}
