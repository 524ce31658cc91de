import { LRUCache } from 'lru-cache';
import type { ColumnarQueryResult, ResultColumn } from './query.js';

/**
 * Results of queries over table versions. A Delta version never changes (PROTOCOL.md:
 * commits are immutable, and a data file is never rewritten in place), so the result of
 * one query over one version is valid for as long as it is kept: there is nothing to
 * invalidate, a newer version simply has other keys. The cache is bounded in bytes
 * (least recently used results go first); a result larger than the bound is not kept.
 *
 * Concurrent misses of one key share one query. Cached results are shared between
 * callers: they are read-only (their typed arrays must not be written).
 */
export interface QueryCacheOptions {
  /** The bound on the results' estimated size. */
  readonly maxBytes: number;
}

export interface QueryCacheStats {
  readonly entries: number;
  readonly bytes: number;
  readonly maxBytes: number;
  readonly hits: number;
  readonly misses: number;
}

export class QueryCache {
  private readonly results: LRUCache<string, ColumnarQueryResult>;
  private readonly inflight = new Map<string, Promise<ColumnarQueryResult>>();
  private hits = 0;
  private misses = 0;

  constructor(private readonly options: QueryCacheOptions) {
    if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes < 1) {
      throw new RangeError(`maxBytes must be a positive integer, not ${options.maxBytes}`);
    }
    this.results = new LRUCache<string, ColumnarQueryResult>({
      maxSize: options.maxBytes,
      sizeCalculation: (result, key) => resultBytes(result) + key.length * 2,
    });
  }

  /** The cached result of `key`, or the result of `run` (kept if it fits). */
  async getOrRun(
    key: string,
    run: () => Promise<ColumnarQueryResult>,
  ): Promise<ColumnarQueryResult> {
    const cached = this.results.get(key);
    if (cached !== undefined) {
      this.hits++;
      return cached;
    }
    const pending = this.inflight.get(key);
    if (pending !== undefined) {
      this.hits++;
      return pending;
    }
    this.misses++;
    const running = run()
      .then((result) => {
        this.results.set(key, result);
        return result;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, running);
    return running;
  }

  stats(): QueryCacheStats {
    return {
      entries: this.results.size,
      bytes: this.results.calculatedSize,
      maxBytes: this.options.maxBytes,
      hits: this.hits,
      misses: this.misses,
    };
  }

  clear(): void {
    this.results.clear();
  }
}

/**
 * An estimate of a result's heap size: typed arrays by their bytes; other values by
 * V8's usual footprint (a pointer per array slot, a header per object, 2 bytes per
 * string character), which is what the bound is for.
 */
export function resultBytes(result: ColumnarQueryResult): number {
  let bytes = 64;
  for (const [name, column] of Object.entries(result.columns)) {
    bytes += 64 + name.length * 2 + columnBytes(column);
  }
  return Math.max(1, Math.ceil(bytes));
}

function columnBytes(column: ResultColumn): number {
  let bytes = column.nulls?.byteLength ?? 0;
  const values = column.values;
  if (values instanceof Float64Array) return bytes + values.byteLength;
  bytes += 16 + 8 * values.length;
  for (const value of values) bytes += valueBytes(value);
  return bytes;
}

function valueBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return 16 + value.length * 2;
    case 'bigint':
      return 24;
    case 'object': {
      if (value === null) return 0;
      if (value instanceof Date) return 32;
      if (ArrayBuffer.isView(value)) return 64 + value.byteLength;
      if (Array.isArray(value))
        return 16 + value.reduce((n: number, v) => n + 8 + valueBytes(v), 0);
      return Object.entries(value).reduce((n, [k, v]) => n + 8 + k.length * 2 + valueBytes(v), 32);
    }
    default:
      return 0; // numbers and booleans live in the slot already counted
  }
}
