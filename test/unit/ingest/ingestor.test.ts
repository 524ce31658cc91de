import { describe, expect, it } from 'vitest';
import { type Clock, type Trade } from '../../../src/domain/index.js';
import {
  Ingestor,
  murmur3x86128,
  TradeDeduper,
  type SourceRecord,
} from '../../../src/ingest/index.js';
import { MemorySymbolDirectory } from '../../../src/mdm/index.js';
import { MemoryBus } from '../../../src/stream/index.js';

const NOW = Date.UTC(2026, 10, 20, 15, 0, 0) * 1_000;
const clock: Clock = { now: () => NOW };
const trade = (id: string, over: Partial<Trade> = {}): Trade => ({
  symbol: 'AAPL',
  ts: NOW - 1_000_000,
  seq: 1,
  price: 190.5,
  size: 100,
  id,
  exchange: '11',
  ...over,
});

const ingestor = () => new Ingestor(new MemoryBus(), new MemorySymbolDirectory(['AAPL']), clock);

describe('the ingest path', () => {
  it('applies the tape’s correction indicator (src/ingest/validation/corrections.ts)', () => {
    const records: SourceRecord[] = [0, 1, 2, 7, 8, 10, 11, 12, 99].map((correction) => ({
      kind: 'trade',
      value: trade(`c${correction}`),
      correction,
      raw: `row ${correction}`,
    }));
    const checked = ingestor().checkRecords(records, 'test');
    expect(checked.trades.map((t) => t.id)).toEqual(['c0', 'c2', 'c12']);
    expect(checked.rejects.map((r) => [r.reason, r.payload, r.detail])).toEqual([
      ['SUPERSEDED_BY_CORRECTION', 'row 1', 'correction 1'],
      ['CANCELLED', 'row 7', 'correction 7'],
      ['CANCELLED', 'row 8', 'correction 8'],
      ['CANCEL_RECORD', 'row 10', 'correction 10'],
      ['CANCEL_RECORD', 'row 11', 'correction 11'],
      ['CORRECTION_UNKNOWN', 'row 99', 'correction 99'],
    ]);
  });

  it('drops a repeated trade as DUPLICATE, across batches, by source, symbol and id', () => {
    const path = ingestor();
    const first = path.checkRecords([{ kind: 'trade', value: trade('a') }], 'feed');
    const second = path.checkRecords(
      [
        { kind: 'trade', value: trade('a', { price: 191 }) },
        { kind: 'trade', value: trade('a') },
        { kind: 'trade', value: trade('b') },
      ],
      'feed',
    );
    const other = path.checkRecords([{ kind: 'trade', value: trade('a') }], 'other-feed');
    expect(first.trades).toHaveLength(1);
    expect(second.trades.map((t) => t.id)).toEqual(['b']);
    expect(second.rejects.map((r) => r.reason)).toEqual(['DUPLICATE', 'DUPLICATE']);
    expect(other.trades).toHaveLength(1);
  });

  it('keeps the payload of a bigint-carrying record readable', () => {
    const checked = ingestor().checkRecords(
      [{ kind: 'trade', value: trade('n', { price: -1, tsNanos: 1_763_650_799_000_000_123n }) }],
      'feed',
    );
    expect(checked.rejects[0]?.reason).toBe('NEGATIVE_PRICE');
    expect(JSON.parse(checked.rejects[0]!.payload).tsNanos).toBe('1763650799000000123');
  });

  it('turns a malformed row into MALFORMED_ROW with the column in its detail', () => {
    const checked = ingestor().checkRecords(
      [{ kind: 'malformed', raw: 'AAPL,x', column: 'price', detail: '"x" is not a number' }],
      'feed',
    );
    expect(checked.rejects).toMatchObject([
      {
        kind: 'row',
        reason: 'MALFORMED_ROW',
        payload: 'AAPL,x',
        detail: 'price: "x" is not a number',
      },
    ]);
  });
});

describe('TradeDeduper', () => {
  it('forgets the oldest key beyond its capacity, so memory stays bounded', () => {
    const deduper = new TradeDeduper(2);
    expect(deduper.isDuplicate('s', 'A', '1')).toBe(false);
    expect(deduper.isDuplicate('s', 'A', '2')).toBe(false);
    expect(deduper.isDuplicate('s', 'A', '1')).toBe(true);
    expect(deduper.isDuplicate('s', 'A', '3')).toBe(false);
    expect(deduper.size).toBe(2);
    // '1' was the oldest when '3' came: forgotten.
    expect(deduper.isDuplicate('s', 'A', '1')).toBe(false);
  });

  it('answers as an exact window of the last `capacity` keys would, over many evictions', () => {
    // The oracle: the keys themselves, in a Set and a queue of arrival.
    const capacity = 97;
    const deduper = new TradeDeduper(capacity);
    const held = new Set<string>();
    const order: string[] = [];
    let seed = 12345;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    let repeats = 0;
    for (let n = 0; n < 40_000; n++) {
      // Ids from a range a little wider than the window: many repeats inside it, many outside.
      const id = String(Math.floor(random() * 300));
      const symbol = random() < 0.5 ? 'AAPL' : 'MSFT';
      const key = `${symbol}/${id}`;
      const expected = held.has(key);
      if (expected) repeats++;
      expect(deduper.isDuplicate('file', symbol, id)).toBe(expected);
      if (!expected) {
        held.add(key);
        order.push(key);
        if (order.length > capacity) held.delete(order.shift()!);
      }
    }
    expect(repeats).toBeGreaterThan(2_000);
    expect(deduper.size).toBe(capacity);
  });

  it('holds 24 bytes a key in typed arrays, whatever the keys', () => {
    const deduper = new TradeDeduper(500_000);
    // 16 bytes of hash per key in the ring, a 2^20-slot Int32Array index.
    expect(deduper.bytes).toBe(500_000 * 16 + 2 ** 20 * 4);
  });
});

describe('murmur3x86128', () => {
  // Reference values: Python's mmh3 5.x, `mmh3.hash_bytes(s.encode('utf-16-le'), 0, False)`
  // read as four little-endian uint32 (h1…h4).
  const vectors: [string, number[]][] = [
    ['', [0, 0, 0, 0]],
    ['a', [0x033bb196, 0xccef4fe1, 0xccef4fe1, 0xccef4fe1]],
    ['abcdefg', [0x851fde5e, 0xf81a9aab, 0x2a351f32, 0xfa8e8ca7]],
    ['abcdefgh', [0x6c357655, 0x8df898a1, 0xa76d230d, 0x42147114]],
    [
      'file:trades_v1.csv\u0000AAPL\u000011--1234567',
      [0x62d633df, 0xa8cb19ff, 0xcf6f338f, 0xf6bc4b58],
    ],
    ['é€😀x', [0x850c412d, 0xb2934342, 0xa843f26a, 0x6abab1fb]],
  ];
  for (const [text, expected] of vectors) {
    it(`hashes ${JSON.stringify(text)} as MurmurHash3_x86_128 of its UTF-16LE bytes`, () => {
      const out = new Uint32Array(4);
      murmur3x86128(text, out);
      expect([...out]).toEqual(expected);
    });
  }
});
