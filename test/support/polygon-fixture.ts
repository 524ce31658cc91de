import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';

/**
 * A deterministic Polygon-layout trades flat file (`us_stocks_sip/trades_v1` columns) with
 * planted bad, duplicate and corrected rows, and what the ingest path must make of each
 * row: the valid trades (with their nanosecond times) and the reason of every other row.
 * Written row by row, so a million rows never sit in memory as text.
 */
export const POLYGON_TRADES_HEADER =
  'ticker,conditions,correction,exchange,id,participant_timestamp,price,sequence_number,sip_timestamp,size,tape,trf_id,trf_timestamp';

export interface ExpectedTrade {
  readonly symbol: string;
  /** The trade id as the ingest path forms it: `exchange-trf_id-id`. */
  readonly id: string;
  readonly tsNanos: bigint;
  readonly price: number;
  readonly size: number;
  readonly seq: number;
}

export interface PolygonFixture {
  readonly rows: number;
  readonly valid: ExpectedTrade[];
  /** Reason per rejected data row, in file order. */
  readonly rejects: { readonly line: string; readonly reason: string }[];
}

const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN'];
const EXCHANGES = [4, 8, 11, 12];
/** 2024-03-28T13:30:00Z (the open, 09:30 New York) in epoch ns. */
const DAY_START_NS = 1_711_632_600_000_000_000n;
/** The rows spread over a 6.5-hour session, as a day's file does. */
const SESSION_NS = 23_400_000_000_000;

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Writes `rows` data rows to `file` (gzip when it ends in .gz). About 1 row in 100 is
 * planted: negative price, zero size, unknown ticker, unreadable price or timestamp, a
 * short row, an exact duplicate, an original later corrected (followed by its correction
 * record), a cancelled original and a cancel record.
 */
export async function writePolygonTradesFile(
  file: string,
  rows: number,
  seed = 10,
): Promise<PolygonFixture> {
  const next = random(seed);
  const out = createWriteStream(file);
  const gzip = file.endsWith('.gz') ? createGzip({ level: 1 }) : undefined;
  if (gzip) gzip.pipe(out);
  const sink = gzip ?? out;
  const valid: ExpectedTrade[] = [];
  const rejects: { line: string; reason: string }[] = [];
  const seqs = new Map<string, number>();
  const serials = new Map<string, number>();
  let sip = DAY_START_NS;
  let buffer = `${POLYGON_TRADES_HEADER}\n`;
  const recent: { line: string; trade: ExpectedTrade }[] = [];
  const write = async (line: string) => {
    buffer += `${line}\n`;
    if (buffer.length > 1 << 16) {
      if (!sink.write(buffer)) await once(sink, 'drain');
      buffer = '';
    }
  };
  const meanStep = SESSION_NS / Math.max(1, rows);
  const trade = (symbol: string) => {
    sip += BigInt(1 + Math.floor(next() * 2 * meanStep));
    const exchange = EXCHANGES[Math.floor(next() * EXCHANGES.length)]!;
    const key = `${symbol}-${exchange}`;
    const serial = (serials.get(key) ?? 0) + 1;
    serials.set(key, serial);
    const seq = (seqs.get(symbol) ?? 1000) + 1 + Math.floor(next() * 3);
    seqs.set(symbol, seq);
    const cents = 10_000 + Math.floor(next() * 40_000);
    return {
      symbol,
      exchange,
      polygonId: String(serial),
      id: `${exchange}--${serial}`,
      tsNanos: sip,
      participant: sip - BigInt(Math.floor(next() * 500_000)),
      price: cents / 100,
      size: 1 + Math.floor(next() * 500),
      seq,
    };
  };
  type Row = ReturnType<typeof trade>;
  const line = (t: Row, over: Partial<Record<string, string>> = {}) =>
    [
      over.ticker ?? t.symbol,
      over.conditions ?? (next() < 0.5 ? '"12,37"' : '12'),
      over.correction ?? '',
      String(t.exchange),
      t.polygonId,
      String(t.participant),
      over.price ?? String(t.price),
      String(t.seq),
      over.sip_timestamp ?? String(t.tsNanos),
      over.size ?? String(t.size),
      '3',
      '',
      '0',
    ].join(',');
  const expected = (t: Row): ExpectedTrade => ({
    symbol: t.symbol,
    id: t.id,
    tsNanos: t.tsNanos,
    price: t.price,
    size: t.size,
    seq: t.seq,
  });
  let written = 0;
  const planted = (text: string, reason: string) => {
    rejects.push({ line: text, reason });
    written++;
    return write(text);
  };
  while (written < rows) {
    const symbol = SYMBOLS[Math.floor(next() * SYMBOLS.length)]!;
    const t = trade(symbol);
    const kind = written % 100 === 99 && rows - written > 2 ? Math.floor(next() * 10) : -1;
    switch (kind) {
      case 0:
        await planted(line(t, { price: String(-t.price) }), 'NEGATIVE_PRICE');
        break;
      case 1:
        await planted(line(t, { size: '0' }), 'ZERO_SIZE');
        break;
      case 2:
        await planted(line(t, { ticker: 'ZZZZ' }), 'UNKNOWN_SYMBOL');
        break;
      case 3:
        await planted(line(t, { price: 'n/a' }), 'MALFORMED_ROW');
        break;
      case 4:
        await planted(line(t, { sip_timestamp: '2024-03-28T08:00:00Z' }), 'MALFORMED_ROW');
        break;
      case 5:
        await planted(line(t).split(',').slice(0, 8).join(','), 'MALFORMED_ROW');
        break;
      case 6: {
        const previous = recent[Math.floor(next() * recent.length)];
        if (previous) await planted(previous.line, 'DUPLICATE');
        else await planted(line(t, { price: '-1' }), 'NEGATIVE_PRICE');
        break;
      }
      case 7: {
        // An original later corrected, then its correction record: same id, new price.
        await planted(line(t, { correction: '1' }), 'SUPERSEDED_BY_CORRECTION');
        const corrected = { ...t, price: Math.round(t.price * 100 + 1) / 100 };
        await write(line(corrected, { correction: '12' }));
        valid.push(expected(corrected));
        written++;
        break;
      }
      case 8:
        await planted(line(t, { correction: '8' }), 'CANCELLED');
        break;
      case 9:
        await planted(line(t, { correction: '10' }), 'CANCEL_RECORD');
        break;
      default: {
        const text = line(t, next() < 0.3 ? { correction: '0' } : {});
        await write(text);
        valid.push(expected(t));
        recent.push({ line: text, trade: expected(t) });
        if (recent.length > 50) recent.shift();
        written++;
      }
    }
  }
  sink.write(buffer);
  sink.end();
  await once(out, 'finish');
  return { rows: written, valid, rejects };
}

/** Polygon's `us_stocks_sip/minute_aggs_v1` header. */
export const POLYGON_MINUTE_AGGS_HEADER =
  'ticker,volume,open,close,high,low,window_start,transactions';

/**
 * `minutes` minute aggregates of AAPL and MSFT from 2024-03-28T13:30Z as Polygon's flat file
 * holds them (`ticker, volume, open, close, high, low, window_start, transactions`, as text),
 * prices with fifteen significant digits (none a short decimal) and some volumes
 * fractional, as Polygon's `v` may be; and one more row whose low is above its open
 * (BAR_INCONSISTENT).
 */
export function minuteAggsRows(minutes: number): { rows: string[][]; bad: string[] } {
  const rows: string[][] = [];
  const minuteNs = 60_000_000_000n;
  for (let i = 0; i < minutes; i++) {
    for (const [ticker, base] of [
      ['AAPL', 171.4],
      ['MSFT', 420.7],
    ] as const) {
      const price = (offset: number) => (base + i * 0.0137 + offset).toPrecision(15);
      rows.push([
        ticker,
        i % 7 === 0 ? `${1000 + i}.5` : `${12_345 + i * 101}`,
        price(1 / 3),
        price(2 / 7),
        price(0.5123456789),
        price(0.1000000001),
        String(DAY_START_NS + BigInt(i) * minuteNs),
        String(17 + i),
      ]);
    }
  }
  const bad = [
    'AAPL',
    '100',
    '171.5',
    '171.6',
    '171.9',
    '171.7',
    String(DAY_START_NS + BigInt(minutes) * minuteNs),
    '3',
  ];
  return { rows, bad };
}

/** The file of `minuteAggsRows`: the good rows, then the bad one. */
export function minuteAggsText(fixture: { rows: string[][]; bad: string[] }): string {
  return `${[POLYGON_MINUTE_AGGS_HEADER, ...[...fixture.rows, fixture.bad].map((r) => r.join(','))].join('\n')}\n`;
}
