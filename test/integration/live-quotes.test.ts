import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlatform, type Platform } from '../../src/app.js';
import { quoteRow, tradeColumns } from '../../src/batch/index.js';
import { configWith } from '../../src/config/index.js';
import {
  isoOfMicros,
  ManualClock,
  MINUTE_US,
  SECOND_US,
  type Quote,
  type Trade,
} from '../../src/domain/index.js';
import type { ApiServer } from '../../src/graphql/index.js';
import { startLoopbackApi } from '../support/api.js';

/**
 * Quotes through the lambda view (issue 12): `quotes`, `latestQuote` and `tradesWithQuote`
 * read bronze.quotes/bronze.trades below the watermark and the speed layer's quotes and
 * trades above it (published on the bus, as the feed does), and adjust quote prices and
 * sizes for corporate actions as trades are adjusted — each row by the factors of its own
 * time — unless `adjusted: false`. QSPL splits 2-for-1 on 2026-11-20 (inside the lake's
 * part) and again on 2026-11-23 (after every row): the factors are 1/4 and 4 before the
 * first ex-date, 1/2 and 2 after it, powers of two, so the oracle's products are exact.
 * The oracle is a brute-force scan of the rows the test wrote.
 */
const at = (iso: string): number => Date.parse(iso) * 1_000;
const T0 = at('2026-11-20T15:07:30Z');
const EX1 = at('2026-11-20T00:00:00Z');
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-live-quotes-'));
// Auth off: the subject is the data, not tokens (docs/auth.md). One backfilled session of
// the simulator's symbols sets the watermark; QSPL is the test's own.
const config = configWith({
  home,
  port: 0,
  backfillSessions: 1,
  simulatorTradesPerSecond: 0.5,
  authMode: 'off',
});
const clock = new ManualClock(T0);
let platform: Platform;
let server: ApiServer;
let watermark: number;
const lakeQuotes: Quote[] = [];
const speedQuotes: Quote[] = [];
const lakeTrades: Trade[] = [];
const speedTrades: Trade[] = [];

const factorAt = (ts: number) =>
  ts < EX1 ? { price: 0.25, volume: 4 } : { price: 0.5, volume: 2 };

async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}

beforeAll(async () => {
  platform = await createPlatform(config, { clock });
  await platform.start({ live: false });
  server = await startLoopbackApi(platform);
  watermark = platform.sink.watermark()!;
  await platform.masterData.createSymbol(
    { ticker: 'QSPL', name: 'Quote Split Inc.', exchange: 'XNAS' },
    'test',
  );
  for (const exDate of ['2026-11-20', '2026-11-23']) {
    await platform.masterData.addCorporateAction(
      { kind: 'split', symbol: 'QSPL', exDate, splitFrom: 1, splitTo: 2 },
      'test',
    );
  }
  const quote = (i: number, ts: number): Quote => ({
    symbol: 'QSPL',
    ts,
    bidPrice: 100 + i / 8,
    bidSize: 100 + i,
    askPrice: 100.25 + i / 8,
    askSize: 200 + i,
  });
  const trade = (i: number, ts: number): Trade => ({
    symbol: 'QSPL',
    ts,
    seq: i,
    price: 100.125 + i / 16,
    size: 1 + (i % 50),
    id: `q${i}`,
    exchange: 'XNAS',
  });
  // The lake: from 26 h before the watermark (across EX1) up to it.
  for (let i = 0, ts = watermark - 26 * 60 * MINUTE_US; ts < watermark; i++, ts += 7 * MINUTE_US) {
    lakeQuotes.push(quote(i, ts));
    lakeTrades.push(trade(2 * i, ts - 3 * SECOND_US), trade(2 * i + 1, ts + 3 * SECOND_US));
  }
  // The speed layer: the first trade comes before the first speed quote, so its
  // prevailing quote is the lake's last.
  for (let i = 0; i < 40; i++) {
    speedQuotes.push(quote(1_000 + i, watermark + 30 * SECOND_US + i * 13 * SECOND_US));
    speedTrades.push(trade(10_000 + i, watermark + SECOND_US + i * 11 * SECOND_US));
  }
  await platform.tables.quotes.append(lakeQuotes.map(quoteRow));
  await platform.tables.trades.append(tradeColumns(lakeTrades));
  clock.set(watermark + 15 * MINUTE_US);
  await platform.bus.publish(
    'quotes',
    speedQuotes.map((q) => ({ key: q.symbol, value: q })),
  );
  await platform.bus.publish(
    'trades',
    speedTrades.map((t) => ({ key: t.symbol, value: t })),
  );
  const everything = { from: watermark, to: watermark + 60 * MINUTE_US };
  for (let i = 0; ; i++) {
    const [q, t] = await Promise.all([
      platform.speedStore!.quotes('QSPL', everything, 1_000),
      platform.speedStore!.trades('QSPL', everything, 1_000),
    ]);
    if (q.length === speedQuotes.length && t.length === speedTrades.length) break;
    if (i > 2_000) throw new Error('the speed layer never stored the quotes and trades');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}, 120_000);

afterAll(async () => {
  await server?.close();
  await platform?.stop();
  rmSync(home, { recursive: true, force: true });
});

const FROM = isoOfMicros(at('2026-11-19T00:00:00Z'));
const TO = isoOfMicros(at('2026-11-21T00:00:00Z'));
const QUOTE_FIELDS = 'tsMicros bidPrice bidSize askPrice askSize';

interface ApiQuote {
  tsMicros: number;
  bidPrice: number;
  bidSize: number;
  askPrice: number;
  askSize: number;
}
interface Connection<T> {
  edges: { node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

function expectedQuote(q: Quote, adjusted: boolean): ApiQuote {
  const f = adjusted ? factorAt(q.ts) : { price: 1, volume: 1 };
  return {
    tsMicros: q.ts,
    bidPrice: q.bidPrice * f.price,
    bidSize: q.bidSize * f.volume,
    askPrice: q.askPrice * f.price,
    askSize: q.askSize * f.volume,
  };
}

async function pages<T>(field: string, query: string, adjusted: boolean): Promise<T[]> {
  const rows: T[] = [];
  let after: string | null = null;
  for (;;) {
    const data: Record<string, Connection<T>> = await gql(query, { after, adjusted });
    const page = data[field]!;
    rows.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) return rows;
    after = page.pageInfo.endCursor;
  }
}

describe('quotes through the speed layer, adjusted', () => {
  it('pages quotes across the watermark, lake then speed, adjusted by the factors of each quote’s time', async () => {
    const QUERY = `query($after: String, $adjusted: Boolean) {
      quotes(symbol: "QSPL", from: "${FROM}", to: "${TO}", first: 17, after: $after, adjusted: $adjusted) {
        edges { node { ${QUOTE_FIELDS} source } } pageInfo { hasNextPage endCursor } } }`;
    const all = [...lakeQuotes, ...speedQuotes];
    for (const adjusted of [true, false]) {
      const served = await pages<ApiQuote & { source: string }>('quotes', QUERY, adjusted);
      expect(served).toEqual(
        all.map((q) => ({
          ...expectedQuote(q, adjusted),
          source: q.ts < watermark ? 'LAKE' : 'SPEED',
        })),
      );
    }
  });

  it('answers the latest quote from the speed layer, adjusted unless asked not to', async () => {
    const latest = speedQuotes.at(-1)!;
    for (const adjusted of [true, false]) {
      const data = await gql<{ latestQuote: ApiQuote }>(
        `query($adjusted: Boolean!) { latestQuote(symbol: "QSPL", adjusted: $adjusted) { ${QUOTE_FIELDS} } }`,
        { adjusted },
      );
      expect(data.latestQuote).toEqual(expectedQuote(latest, adjusted));
    }
  });

  it('joins each trade to its prevailing quote across the watermark, equal to a brute-force as-of scan', async () => {
    const QUERY = `query($after: String, $adjusted: Boolean) {
      tradesWithQuote(symbol: "QSPL", from: "${FROM}", to: "${TO}", first: 9, after: $after, adjusted: $adjusted) {
        edges { node { trade { tsMicros seq price size } quote { ${QUOTE_FIELDS} } } }
        pageInfo { hasNextPage endCursor } } }`;
    const quotes = [...lakeQuotes, ...speedQuotes];
    const trades = [...lakeTrades, ...speedTrades].sort((a, b) => a.ts - b.ts || a.seq - b.seq);
    for (const adjusted of [true, false]) {
      const served = await pages<{ trade: unknown; quote: ApiQuote | null }>(
        'tradesWithQuote',
        QUERY,
        adjusted,
      );
      const want = trades.map((t) => {
        let prevailing: Quote | undefined;
        for (const q of quotes) if (q.ts <= t.ts) prevailing = q;
        const f = adjusted ? factorAt(t.ts) : { price: 1, volume: 1 };
        return {
          trade: { tsMicros: t.ts, seq: t.seq, price: t.price * f.price, size: t.size * f.volume },
          quote: prevailing ? expectedQuote(prevailing, adjusted) : null,
        };
      });
      expect(served).toEqual(want);
      // The first trade above the watermark precedes every speed quote: its quote is the lake's.
      const firstSpeed = served.findIndex(
        (r) => (r.trade as { tsMicros: number }).tsMicros >= watermark,
      );
      expect(served[firstSpeed]!.quote!.tsMicros).toBe(lakeQuotes.at(-1)!.ts);
    }
  });
});
