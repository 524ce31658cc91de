import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { localObjectStore, type ColumnSpec, type ObjectStore } from '../../../src/lake/index.js';

/** A fresh temporary folder, removed by the returned cleanup. */
export async function tempDir(
  prefix = 'alphalake-lake-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A fresh local store in a temporary folder for each test of the calling `describe`;
 * read `dir` and `store` inside the tests (they change per test).
 */
export function useTempStore(): { readonly dir: string; readonly store: ObjectStore } {
  const current = { dir: '', store: undefined as unknown as ObjectStore };
  let cleanup: () => Promise<void> = async () => {};
  beforeEach(async () => {
    ({ dir: current.dir, cleanup } = await tempDir());
    current.store = localObjectStore(current.dir);
  });
  afterEach(() => cleanup());
  return {
    get dir() {
      return current.dir;
    },
    get store() {
      return current.store;
    },
  };
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
