import { expect } from 'vitest';
import type { DeltaTable } from '../../src/lake/index.js';
import type { ExpectedTrade } from './polygon-fixture.js';

/**
 * Asserts that bronze.trades holds exactly the fixture's valid trades, each once: same
 * count, no unknown or repeated (symbol, id), and every one's nanosecond time, price,
 * size and seq equal to the fixture's (the nanoseconds compared as decimal text: whole).
 */
export async function expectTradesExactlyOnce(
  trades: DeltaTable,
  valid: readonly ExpectedTrade[],
): Promise<void> {
  const read = await trades.query({
    columns: ['symbol', 'id', 'ts_nanos', 'price', 'size', 'seq'],
  });
  expect(read.rows.length).toBe(valid.length);
  const expected = new Map(valid.map((t) => [`${t.symbol}/${t.id}`, t]));
  const seen = new Set<string>();
  const wrong: string[] = [];
  for (const row of read.rows) {
    const key = `${String(row.symbol)}/${String(row.id)}`;
    const trade = expected.get(key);
    if (!trade || seen.has(key)) wrong.push(`${key} ${trade ? 'twice' : 'unknown'}`);
    else if (
      String(row.ts_nanos) !== trade.tsNanos.toString() ||
      row.price !== trade.price ||
      Number(row.size) !== trade.size ||
      Number(row.seq) !== trade.seq
    )
      wrong.push(`${key}: ${String(row.ts_nanos)} ${String(row.price)}`);
    seen.add(key);
  }
  expect(wrong.slice(0, 10)).toEqual([]);
  expect(seen.size).toBe(valid.length);
}
