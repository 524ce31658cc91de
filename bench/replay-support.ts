import { tradeColumns } from '../src/batch/index.js';
import type { ColumnBatch } from '../src/lake/index.js';
import type { ExpectedTrade } from '../test/support/polygon-fixture.js';

/** The fixture's valid trades as the lake sink's columns. */
export function tradeColumnsOf(trades: readonly ExpectedTrade[]): ColumnBatch {
  return tradeColumns(
    trades.map((t) => ({
      symbol: t.symbol,
      ts: Number(t.tsNanos / 1000n),
      seq: t.seq,
      price: t.price,
      size: t.size,
      id: t.id,
      exchange: t.id.split('-')[0]!,
      tsNanos: t.tsNanos,
    })),
  );
}
