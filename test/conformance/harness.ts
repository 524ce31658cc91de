import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import {
  DeltaTable,
  type ColumnSpec,
  type ColumnType,
  type ObjectStore,
} from '../../src/lake/index.js';
import { endpoints } from '../services/endpoints.js';

/** The repository root (this file runs compiled from dist/test/conformance/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function conformanceDir(): string {
  return (
    process.env['ALPHALAKE_CONFORMANCE_DIR'] ?? path.resolve(REPO_ROOT, '../shared/conformance')
  );
}

/** The services tier's Python (ALPHALAKE_PYTHON, else the venv scripts/services/fetch made). */
export function pythonPath(): string {
  return endpoints.python;
}

/** Every folder holding a `_delta_log`, relative to `root`. */
export async function findTables(root: string, relative = ''): Promise<string[]> {
  const entries = await readdir(path.join(root, relative), { withFileTypes: true });
  if (entries.some((e) => e.isDirectory() && e.name === '_delta_log')) return [relative];
  const out: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory() && !entry.name.startsWith('.')) {
      out.push(...(await findTables(root, path.join(relative, entry.name))));
    }
  }
  return out.sort();
}

export async function copyToTemp(
  source: string,
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'alphalake-conformance-'));
  await cp(source, dir, { recursive: true });
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

export interface OracleRead {
  readonly version?: number;
  readonly schema?: { name: string; type: string }[];
  readonly rows?: string[];
  readonly files?: string[];
  readonly rows_error?: string;
  readonly error?: string;
}

/** Runs requests through delta-rs (test/conformance/delta_oracle.py) in one Python process. */
export function oracle<T = OracleRead>(requests: readonly Record<string, unknown>[]): Promise<T[]> {
  return pythonOracle<T>('delta_oracle.py', requests);
}

/** Runs requests through Spark + delta-spark (test/conformance/spark_oracle.py), one session. */
export function sparkOracle<T = OracleRead>(
  requests: readonly Record<string, unknown>[],
): Promise<T[]> {
  return pythonOracle<T>('spark_oracle.py', requests);
}

async function pythonOracle<T>(
  name: string,
  requests: readonly Record<string, unknown>[],
): Promise<T[]> {
  const script = path.join(REPO_ROOT, 'test/conformance', name);
  return new Promise((resolve, reject) => {
    const child = spawn(pythonPath(), [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${name} exited ${code}: ${err.slice(-4000)}`));
      else resolve(JSON.parse(out) as T[]);
    });
    child.stdin.end(
      JSON.stringify(requests, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    );
  });
}

/** The canonical form the oracle also produces (see delta_oracle.py). */
export function canonical(value: unknown, type?: ColumnType): unknown {
  if (value === null || value === undefined) return null;
  if (typeof type === 'string' && type.startsWith('decimal') && typeof value === 'string') {
    return value.includes('.') ? value.replace(/0+$/, '').replace(/\.$/, '') : value;
  }
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return value;
  }
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return { $ts: value.getTime() };
  if (value instanceof Uint8Array) return { $hex: Buffer.from(value).toString('hex') };
  if (Array.isArray(value)) {
    const isMap =
      value.length > 0 &&
      value.every(
        (e) =>
          typeof e === 'object' &&
          e !== null &&
          !Array.isArray(e) &&
          Object.keys(e).join() === 'key,value',
      );
    if (isMap) {
      return {
        $map: (value as { key: unknown; value: unknown }[])
          .map((e) => [canonical(e.key), canonical(e.value)])
          .sort((a, b) => (stableStringify(a) < stableStringify(b) ? -1 : 1)),
      };
    }
    return value.map((v) => canonical(v));
  }
  if (typeof value === 'object') {
    const struct = typeof type === 'object' && type.type === 'struct' ? type.fields : undefined;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = canonical(v, struct?.find((f) => f.name === k)?.type);
    return out;
  }
  return value;
}

export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

export function canonicalRows(
  rows: readonly Record<string, unknown>[],
  schema: readonly ColumnSpec[],
): string[] {
  return rows
    .map((row) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row))
        out[k] = canonical(v, schema.find((c) => c.name === k)?.type);
      return stableStringify(out);
    })
    .sort();
}

export function oracleRows(rows: readonly string[]): string[] {
  return rows.map((r) => stableStringify(JSON.parse(r) as unknown)).sort();
}

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'append-worker.js');

/** Runs a worker process; resolves with its exit code or signal. */
export function runWorker(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, ...args], {
      stdio: ['ignore', 'inherit', 'pipe'],
      env: { ...process.env, ...env },
    });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0 && signal === null) reject(new Error(`worker failed (${code}): ${err}`));
      else resolve(signal ?? String(code));
    });
  });
}

/**
 * The table both interop suites write: nullable columns of every common type, a
 * partition value with special characters and nulls, and edge timestamps (1900, 9999).
 */
export const INTEROP_SCHEMA: ColumnSpec[] = [
  { name: 'symbol', type: 'string', nullable: true },
  { name: 'ts', type: 'timestamp', nullable: true },
  { name: 'price', type: 'double', nullable: true },
  { name: 'size', type: 'long', nullable: true },
  { name: 'flag', type: 'boolean', nullable: true },
  { name: 'date', type: 'date', nullable: true },
];

export function interopRows(day: string, n: number, offset: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    symbol: i % 3 === 0 ? null : ['AAPL', 'MSFT', 'a/b c%d'][i % 3],
    ts:
      i === 1
        ? '1900-01-01T00:00:00.123456Z'
        : i === 2
          ? '9999-12-31T23:59:59.999Z'
          : new Date(Date.parse(`${day}T14:30:00Z`) + i * 1000 + offset),
    price: i % 4 === 0 ? null : 100 + i / 8,
    size: i === 3 ? 2 ** 53 - 1 : i + offset,
    flag: i % 2 === 0,
    date: i === 4 ? null : day,
  }));
}

/** The table concurrency tests commit to from several processes (append-worker.ts). */
export const WORKER_SCHEMA: ColumnSpec[] = [
  { name: 'id', type: 'long', nullable: false },
  { name: 'worker', type: 'integer', nullable: false },
  { name: 'date', type: 'date', nullable: false },
];

const WORKERS = 8;
const APPENDS = 25;

/**
 * The concurrency contract, for any object store: 8 processes each commit 25 appends
 * to table `t`; versions come out contiguous and every row is there exactly once.
 * `start(worker, appends)` runs one worker process to its end.
 */
export async function expectConcurrentAppendsExactlyOnce(
  store: ObjectStore,
  start: (worker: number, appends: number) => Promise<unknown>,
): Promise<DeltaTable> {
  await DeltaTable.create(store, 't', { schema: WORKER_SCHEMA, partitionColumns: ['date'] });
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => start(w, APPENDS)));
  const table = await DeltaTable.open(store, 't');
  const versions = (await table.history()).map((h) => h.version).sort((a, b) => a - b);
  expect(versions).toEqual(Array.from({ length: WORKERS * APPENDS + 1 }, (_, v) => v));
  const ids = (await table.query({ columns: ['id'] })).rows
    .map((r) => r['id'] as number)
    .sort((a, b) => a - b);
  const expected = Array.from({ length: WORKERS }, (_, w) =>
    Array.from({ length: APPENDS }, (_, i) => w * 1000 + i),
  ).flat();
  expect(ids).toEqual(expected.sort((a, b) => a - b));
  const snapshot = await table.snapshot();
  for (let w = 0; w < WORKERS; w++) expect(snapshot.txnVersion(`worker-${w}`)).toBe(APPENDS);
  return table;
}
