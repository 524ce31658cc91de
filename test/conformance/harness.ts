import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import {
  DeltaTable,
  LakeTimestamp,
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

/**
 * The canonical JSON form the oracles also produce (delta_oracle.py `canon`), at full
 * precision: each value is checked against the lake's value model for its Delta type
 * (docs/lake.md "Values") and written so that no two different values, and no two kinds,
 * look alike. A value of the wrong kind for its type comes out as `{ $unexpected }`, so the
 * comparison fails on it. The only canonicalisations are lossless, each commented.
 */
export function canonical(value: unknown, type?: ColumnType): unknown {
  if (value === null || value === undefined) return null;
  if (typeof type === 'string') return canonicalPrimitive(value, type);
  if (typeof type === 'object') {
    switch (type.type) {
      case 'struct': {
        if (typeof value !== 'object' || Array.isArray(value)) return unexpected(value);
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value))
          out[k] = canonical(v, type.fields.find((f) => f.name === k)?.type);
        return out;
      }
      case 'array':
        return Array.isArray(value)
          ? value.map((v) => canonical(v, type.elementType))
          : unexpected(value);
      case 'map': {
        if (!Array.isArray(value)) return unexpected(value);
        if (value.length === 0) return [];
        // A Delta map has no entry order (PROTOCOL.md "Map Type"): entries sorted, lossless.
        return {
          $map: (value as { key: unknown; value: unknown }[])
            .map((e) => [canonical(e.key, type.keyType), canonical(e.value, type.valueType)])
            .sort(byStableString),
        };
      }
    }
  }
  return unexpected(value);
}

function canonicalPrimitive(value: unknown, type: string): unknown {
  switch (type) {
    case 'long':
    case 'integer':
    case 'short':
    case 'byte':
      // Exact digits, tagged as the oracle tags Python ints. A long is a number only while
      // it is a safe integer, a bigint only beyond: anything else breaks the value model.
      if (typeof value === 'number' && Number.isSafeInteger(value)) return { $int: String(value) };
      if (typeof value === 'bigint' && type === 'long' && !Number.isSafeInteger(Number(value)))
        return { $int: value.toString() };
      return unexpected(value);
    case 'double':
    case 'float':
      if (typeof value !== 'number') return unexpected(value);
      // JSON has no NaN/Infinity and drops the sign of zero: spelled out, as the oracle does.
      if (Number.isNaN(value)) return 'NaN';
      if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
      if (Object.is(value, -0)) return '-0';
      return value;
    case 'timestamp':
    case 'timestamp_ntz':
      if (!(value instanceof LakeTimestamp) || value.ntz !== (type === 'timestamp_ntz'))
        return unexpected(value);
      return { [value.ntz ? '$ts_ntz' : '$ts']: value.micros.toString() };
    case 'binary':
      return value instanceof Uint8Array
        ? { $hex: Buffer.from(value).toString('hex') }
        : unexpected(value);
    case 'boolean':
      return typeof value === 'boolean' ? value : unexpected(value);
    default:
      // string, date ('YYYY-MM-DD') and decimal(p,s) (exact text with s digits) are strings.
      return typeof value === 'string' ? value : unexpected(value);
  }
}

function unexpected(value: unknown): unknown {
  const kind = value?.constructor?.name ?? typeof value;
  return {
    $unexpected: `${kind}: ${typeof value === 'bigint' ? value.toString() : JSON.stringify(value)}`,
  };
}

function byStableString(a: unknown, b: unknown): number {
  const x = stableStringify(a);
  const y = stableStringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

/** Our rows in canonical string form, sorted (a multiset, as `oracleRows`). */
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

/**
 * The oracle's rows in the harness's string form, as a sorted list (rows of a table have
 * no order: a multiset comparison, duplicates kept). Map entries are re-sorted with the
 * harness's comparator (Python sorts strings by code point, JS by UTF-16 unit): lossless.
 */
export function oracleRows(rows: readonly string[]): string[] {
  return rows.map((r) => stableStringify(resortMaps(JSON.parse(r) as unknown))).sort();
}

function resortMaps(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resortMaps);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => [k, resortMaps(v)] as const,
  );
  const out = Object.fromEntries(entries) as Record<string, unknown>;
  if (Array.isArray(out['$map']))
    out['$map'] = [...(out['$map'] as unknown[])].sort(byStableString);
  return out;
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
 * partition value with special characters and nulls, and the edges of precision:
 * timestamps (UTC and wall-clock) with microseconds, before 1970 and at 9999-12-31,
 * longs at ±(2^53−1) and at the int64 limits, decimal(38,18) with all 38 digits.
 */
export const INTEROP_SCHEMA: ColumnSpec[] = [
  { name: 'symbol', type: 'string', nullable: true },
  { name: 'ts', type: 'timestamp', nullable: true },
  { name: 'wall', type: 'timestamp_ntz', nullable: true },
  { name: 'price', type: 'double', nullable: true },
  { name: 'size', type: 'long', nullable: true },
  { name: 'amount', type: 'decimal(38,18)', nullable: true },
  { name: 'flag', type: 'boolean', nullable: true },
  { name: 'date', type: 'date', nullable: true },
];

const DECIMALS = [
  '99999999999999999999.999999999999999999',
  '-0.000000000000000001',
  '12345678901234567890.123456789012345678',
  '0.000000000000000000',
  '-99999999999999999999.999999999999999999',
];

export function interopRows(day: string, n: number, offset: number): Record<string, unknown>[] {
  // Epoch µs with sub-millisecond digits: i seconds and 7·i + offset µs after 14:30.
  const base = BigInt(Date.parse(`${day}T14:30:00Z`)) * 1000n;
  return Array.from({ length: n }, (_, i) => ({
    symbol: i % 3 === 0 ? null : ['AAPL', 'MSFT', 'a/b c%d'][i % 3],
    ts:
      i === 1
        ? '1900-01-01T00:00:00.123456Z'
        : i === 2
          ? '9999-12-31T23:59:59.999999Z'
          : i === 5
            ? '1969-12-31T23:59:59.999999Z'
            : base + BigInt(i) * 1_000_000n + BigInt(7 * i + offset),
    wall:
      i === 2
        ? '9999-12-31T23:59:59.999999'
        : i === 4
          ? null
          : i === 5
            ? '1969-12-31T23:59:59.999001'
            : `${day}T09:30:0${i % 10}.${String(123_456 + offset).padStart(6, '0')}`,
    price: i % 4 === 0 ? null : 100 + i / 8,
    size: i === 3 ? 2 ** 53 - 1 : i === 5 ? 2n ** 63n - 1n : i === 6 ? -(2n ** 63n) : i + offset,
    amount: i === 0 ? null : DECIMALS[(i + offset) % DECIMALS.length],
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
