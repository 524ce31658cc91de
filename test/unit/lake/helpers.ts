import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { ColumnSpec } from '../../../src/lake/index.js';

/** A fresh temporary folder, removed by the returned cleanup. */
export async function tempDir(
  prefix = 'alphalake-lake-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export const TRADE_SCHEMA: ColumnSpec[] = [
  { name: 'symbol', type: 'string', nullable: false },
  { name: 'ts', type: 'timestamp', nullable: false },
  { name: 'price', type: 'double', nullable: false },
  { name: 'size', type: 'long', nullable: false },
  { name: 'id', type: 'long', nullable: true },
  { name: 'date', type: 'date', nullable: false },
];

export function trades(
  symbol: string,
  day: string,
  count: number,
  startId = 0,
): Record<string, unknown>[] {
  const base = Date.parse(`${day}T14:30:00Z`);
  return Array.from({ length: count }, (_, i) => ({
    symbol,
    ts: new Date(base + i * 1000),
    price: 100 + i / 100,
    size: 100 + i,
    id: startId + i,
    date: day,
  }));
}
