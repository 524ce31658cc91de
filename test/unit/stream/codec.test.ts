import { describe, expect, it } from 'vitest';
import type { Bar, Quote, Trade, VendorBar } from '../../../src/domain/index.js';
import {
  codecFor,
  COLUMNAR_FORMAT,
  decodeMessage,
  JSON_BIGINT_FORMAT,
  JSON_FORMAT,
  type Encoding,
  type Topic,
} from '../../../src/stream/index.js';

/** Epoch microseconds, 2025-12-01T00:00:00.123456Z. */
const T0 = 1_764_547_200_123_456;

/** Field by field with Object.is: the same double bit for bit (−0 and NaN included). */
function expectIdentical(received: readonly object[], sent: readonly object[]): void {
  expect(received).toHaveLength(sent.length);
  received.forEach((record, i) => {
    const original = sent[i] as Record<string, unknown>;
    const copy = record as Record<string, unknown>;
    expect(Object.keys(copy).sort()).toEqual(Object.keys(original).sort());
    for (const key of Object.keys(original)) {
      if (!Object.is(copy[key], original[key])) {
        throw new Error(
          `record ${i}.${key}: sent ${String(original[key])}, got ${String(copy[key])}`,
        );
      }
    }
  });
}

function roundTrip(topic: Topic, encoding: Encoding, records: readonly object[]) {
  const bytes = codecFor(topic, encoding).encode(records);
  return { bytes, decoded: decodeMessage(topic, bytes) as object[] };
}

const trades = (n: number, symbol = 'AAPL'): Trade[] =>
  Array.from({ length: n }, (_, i) => ({
    symbol,
    ts: T0 + i * 1_337 + (i % 3) * 7,
    seq: 1_000 + i,
    price: 187.23 + ((i * 37) % 100) / 100,
    size: 1 + ((i * 53) % 900),
    id: `20251201-${48_213 + i}`,
    exchange: ['XNAS', 'XNYS', 'ARCX'][i % 3]!,
  }));

describe('columnar record encoding v1', () => {
  it('round-trips trades exactly and starts with its format and kind', () => {
    const sent = trades(1_000);
    const { bytes, decoded } = roundTrip('trades', 'columnar', sent);
    expect(bytes[0]).toBe(COLUMNAR_FORMAT);
    expect(bytes[1]).toBe(1);
    expectIdentical(decoded, sent);
  });

  it('keeps every double exactly, whatever the column holds', () => {
    const awkward: Trade[] = [
      { symbol: 'BRK.A', ts: 0, seq: 0, price: 0.1 + 0.2, size: 0.5, id: '', exchange: '' },
      // The largest safe µs timestamp (year 2255), then a jump back: huge deltas.
      {
        symbol: 'BRK.A',
        ts: Number.MAX_SAFE_INTEGER,
        seq: Number.MAX_SAFE_INTEGER,
        price: Math.PI,
        size: 1e-9,
        id: 'a',
        exchange: 'X',
      },
      { symbol: 'BRK.A', ts: -T0, seq: 1, price: -0, size: Number.NaN, id: '007', exchange: 'X' },
      {
        symbol: 'ÄÖÜ✓',
        ts: T0,
        seq: 2,
        price: Number.POSITIVE_INFINITY,
        size: 5e300,
        id: 'x-0',
        exchange: 'Y',
      },
      {
        symbol: 'ÄÖÜ✓',
        ts: T0 + 1,
        seq: 3,
        price: 123_456_789.123_456_78,
        size: -1,
        id: 'x-01',
        exchange: 'Y',
      },
    ];
    expectIdentical(roundTrip('trades', 'columnar', awkward).decoded, awkward);
  });

  it('writes µs timestamps, cents and serial ids in a few bytes a trade', () => {
    const sent = trades(1_000);
    const columnar = roundTrip('trades', 'columnar', sent).bytes.length;
    const json = roundTrip('trades', 'json', sent).bytes.length;
    // Measured, not a target: printed by bench/bus-kafka.ts; here only their order.
    expect(columnar).toBeLessThan(json / 4);
  });

  it('round-trips quotes and bars exactly', () => {
    const quotes: Quote[] = Array.from({ length: 200 }, (_, i) => ({
      symbol: i % 2 ? 'MSFT' : 'NVDA',
      ts: T0 + i * 250,
      bidPrice: 412.05 + i / 100,
      bidSize: 100 * (1 + (i % 7)),
      askPrice: 412.07 + i / 100,
      askSize: 100 * (1 + (i % 5)),
    }));
    expectIdentical(roundTrip('quotes', 'columnar', quotes).decoded, quotes);
    const bars: Bar[] = Array.from({ length: 60 }, (_, i) => ({
      symbol: 'TSLA',
      interval: '1m',
      ts: T0 - (T0 % 60_000_000) + i * 60_000_000,
      open: 250.5,
      high: 251.25 + i,
      low: 249.75,
      close: 250 + i / 3,
      volume: 10_000 + i,
      vwap: 250.123_456_789_012_3 + i / 7,
      tradeCount: 42 + i,
    }));
    expectIdentical(roundTrip('bars', 'columnar', bars).decoded, bars);
  });

  it("carries a vendor bar's source in kind 5 (a NaN vwap bit for bit), only when a bar has one", () => {
    const sent: VendorBar[] = Array.from({ length: 30 }, (_, i) => ({
      symbol: i % 2 ? 'AAPL' : 'MSFT',
      interval: '1m',
      ts: T0 - (T0 % 60_000_000) + i * 60_000_000,
      open: 171.733333333333 + i,
      high: 171.9123456789 + i,
      low: 171.5000000001 + i,
      close: 171.685714285714 + i,
      volume: i % 7 === 0 ? 1000.5 : 12_345 + i,
      // Polygon's minute-aggs files give none: unknown, kept NaN.
      vwap: i % 3 === 0 ? Number.NaN : 171.7 + i / 7,
      tradeCount: 17 + i,
      source: i < 20 ? 'file:minute_aggs_v1.csv' : 'polygon-ws',
    }));
    const { bytes, decoded } = roundTrip('bars', 'columnar', sent);
    expect(bytes[1]).toBe(5);
    expectIdentical(decoded, sent);
    const plain: Bar[] = sent.map(({ source: _source, ...bar }) => bar);
    expect(codecFor('bars', 'columnar').encode(plain)[1]).toBe(3);
  });

  it('carries Trade.tsNanos whole in kind 4, only when a record has it', () => {
    // 2026-03-28T08:00:00.018381329Z as Polygon's sip_timestamp: 19 digits, past 2^53.
    const sip = 1_679_990_400_018_381_329n;
    const sent: Trade[] = trades(4).map((t, i) => {
      const tsNanos = sip + BigInt(i * 1_000_999);
      return i === 2 ? t : { ...t, ts: Number(tsNanos / 1000n), tsNanos };
    });
    const { bytes, decoded } = roundTrip('trades', 'columnar', sent);
    expect(bytes[1]).toBe(4);
    expectIdentical(decoded, sent);
    expect((decoded[0] as Trade).tsNanos).toBe(sip);
    expect(codecFor('trades', 'columnar').encode(trades(2))[1]).toBe(1);
  });

  it('carries Trade.conditions in kind 6, only when a record has them', () => {
    const sip = 1_679_990_400_018_381_329n;
    const sent: Trade[] = trades(4).map((t, i) =>
      i === 1
        ? t
        : i === 2
          ? { ...t, conditions: [] as number[] }
          : {
              ...t,
              ts: Number((sip + BigInt(i)) / 1000n),
              tsNanos: sip + BigInt(i),
              conditions: [12, 37 + i, 200_000],
            },
    );
    const { bytes, decoded } = roundTrip('trades', 'columnar', sent);
    expect([bytes[0], bytes[1]]).toEqual([COLUMNAR_FORMAT, 6]);
    expect(decoded).toEqual(sent);
    expect((decoded[1] as Trade).conditions).toBeUndefined();
    expect(() =>
      codecFor('trades', 'columnar').encode([{ ...trades(1)[0]!, conditions: [-1] }]),
    ).toThrow(/conditions must be/);
  });

  it('refuses a tsNanos that is no bigint or far from ts', () => {
    const [trade] = trades(1);
    const codec = codecFor('trades', 'columnar');
    expect(() => codec.encode([{ ...trade!, tsNanos: 5 }])).toThrow(
      expect.objectContaining({
        code: 'BAD_USER_INPUT',
        message: expect.stringMatching(/tsNanos/),
      }),
    );
    expect(() => codec.encode([{ ...trade!, tsNanos: 1n }])).toThrow(
      expect.objectContaining({
        code: 'BAD_USER_INPUT',
        message: expect.stringMatching(/tsNanos/),
      }),
    );
  });

  it('refuses a field it does not carry rather than dropping it', () => {
    const [trade] = trades(1);
    const withExtra = { ...trade!, sipTimestamp: 1n };
    expect(() => codecFor('trades', 'columnar').encode([withExtra])).toThrow(
      expect.objectContaining({
        code: 'BAD_USER_INPUT',
        message: expect.stringMatching(/sipTimestamp/),
      }),
    );
  });

  it('refuses a record with a missing or mistyped field', () => {
    const [trade] = trades(1);
    const { price: _price, ...noPrice } = trade!;
    const codec = codecFor('trades', 'columnar');
    expect(() => codec.encode([noPrice])).toThrow(
      expect.objectContaining({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/price/) }),
    );
    expect(() => codec.encode([{ ...trade!, ts: String(T0) }])).toThrow(
      expect.objectContaining({
        code: 'BAD_USER_INPUT',
        message: expect.stringMatching(/ts must be a number/),
      }),
    );
  });

  it('says so when a message cannot be decoded', () => {
    const bytes = codecFor('trades', 'columnar').encode(trades(10));
    const undecodable = (topic: Topic, value: Buffer) => () => decodeMessage(topic, value);
    const schemaMismatch = expect.objectContaining({ code: 'SCHEMA_MISMATCH' });
    expect(undecodable('trades', bytes.subarray(0, bytes.length - 3))).toThrow(schemaMismatch);
    expect(undecodable('trades', Buffer.concat([bytes, Buffer.from([0])]))).toThrow(schemaMismatch);
    expect(undecodable('quotes', bytes)).toThrow(schemaMismatch);
    expect(undecodable('news', bytes)).toThrow(schemaMismatch);
    expect(undecodable('trades', Buffer.from([9, 1, 2]))).toThrow(schemaMismatch);
    expect(undecodable('trades', Buffer.alloc(0))).toThrow(schemaMismatch);
    expect(undecodable('trades', Buffer.from([JSON_FORMAT, 0x7b]))).toThrow(schemaMismatch);
  });
});

describe('JSON record encoding v1', () => {
  it('round-trips records of any topic, finite numbers exactly', () => {
    const sent = trades(20);
    const { bytes, decoded } = roundTrip('trades', 'json', sent);
    expect(bytes[0]).toBe(JSON_FORMAT);
    expectIdentical(decoded, sent);
    const news = [{ id: 'n', symbols: ['AAPL', 'MSFT'], ts: T0, headline: '“Ünïcödé” ✓' }];
    expect(roundTrip('news', 'columnar', news).decoded).toEqual(news);
  });

  it('refuses what JSON cannot hold', () => {
    const circular: Record<string, unknown> = { id: 'loop' };
    circular.self = circular;
    expect(() => codecFor('rejects', 'json').encode([circular])).toThrow(
      expect.objectContaining({ code: 'BAD_USER_INPUT' }),
    );
  });

  it('writes a message holding a bigint as JSON v2, and reads the bigint back whole', () => {
    const sent = trades(3).map((t, i) => ({ ...t, tsNanos: BigInt(t.ts) * 1000n + BigInt(i) }));
    const { bytes, decoded } = roundTrip('trades', 'json', sent);
    expect(bytes[0]).toBe(JSON_BIGINT_FORMAT);
    expectIdentical(decoded, sent);
    // Without a bigint the message stays JSON v1, readable by every older consumer.
    expect(codecFor('trades', 'json').encode(trades(1))[0]).toBe(JSON_FORMAT);
  });

  it('decodes either format on any topic that has columns', () => {
    const sent = trades(5);
    const json = codecFor('trades', 'json').encode(sent);
    const columnar = codecFor('trades', 'columnar').encode(sent);
    expect(decodeMessage('trades', json)).toEqual(decodeMessage('trades', columnar));
  });
});
