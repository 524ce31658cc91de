import type { ColumnBatch, ColumnSpec } from '../src/lake/index.js';

/** Synthetic trades for the lake benchmarks: `symbols` symbols over one trading day. */
export const TRADE_SCHEMA: ColumnSpec[] = [
  { name: 'symbol', type: 'string', nullable: false },
  { name: 'ts', type: 'timestamp', nullable: false },
  { name: 'price', type: 'double', nullable: false },
  { name: 'size', type: 'long', nullable: false },
  { name: 'id', type: 'long', nullable: false },
  { name: 'date', type: 'date', nullable: false },
];

export const SYMBOLS = (count: number): string[] =>
  Array.from({ length: count }, (_, i) => `S${String(i).padStart(4, '0')}`);

/** `rows` trades of `symbols` symbols (from `S<firstSymbol>` on), round robin, time-ordered. */
export function tradesBatch(
  rows: number,
  day: string,
  symbols: number,
  firstId = 0,
  firstSymbol = 0,
): ColumnBatch {
  // Epoch µs, the lake's unit for a Float64Array timestamp column.
  const open = Date.parse(`${day}T14:30:00Z`) * 1000;
  const session = 6.5 * 3600 * 1_000_000;
  const codes = new Int32Array(rows);
  const ts = new Float64Array(rows);
  const price = new Float64Array(rows);
  const size = new Float64Array(rows);
  const id = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    codes[i] = i % symbols;
    ts[i] = open + Math.floor((i / rows) * session);
    price[i] = 100 + ((i * 7919) % 1000) / 100;
    size[i] = 1 + (i % 500);
    id[i] = firstId + i;
  }
  return {
    length: rows,
    columns: {
      symbol: { dictionary: SYMBOLS(firstSymbol + symbols).slice(firstSymbol), codes },
      ts,
      price,
      size,
      id,
      date: { dictionary: [day], codes: new Int32Array(rows) },
    },
  };
}

export function tradingDays(count: number): string[] {
  const days: string[] = [];
  const date = new Date('2024-01-02T00:00:00Z');
  while (days.length < count) {
    if (date.getUTCDay() !== 0 && date.getUTCDay() !== 6)
      days.push(date.toISOString().slice(0, 10));
    date.setUTCDate(date.getUTCDate() + 1);
  }
  return days;
}

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
}
