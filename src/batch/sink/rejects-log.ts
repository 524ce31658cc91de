import { AlphalakeError, utcDate } from '../../domain/index.js';
import type { Reject } from '../../ingest/index.js';
import { LakeTimestamp, type DeltaTable, type Filter } from '../../lake/index.js';

/** The most rejects one query returns. */
export const MAX_REJECTS = 10_000;

export interface RejectsQuery {
  readonly reason?: string;
  readonly source?: string;
  /** Rejection time, epoch µs, inclusive. */
  readonly from?: number;
  /** Rejection time, epoch µs, exclusive. */
  readonly to?: number;
  readonly limit?: number;
}

/** `bronze.rejects` for readers: the newest first, filtered by reason, source and time. */
export class RejectsLog {
  constructor(private readonly table: DeltaTable) {}

  async list(query: RejectsQuery, signal?: AbortSignal): Promise<Reject[]> {
    const limit = query.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_REJECTS) {
      throw new AlphalakeError('BAD_USER_INPUT', `limit must be 1–${MAX_REJECTS}, got ${limit}`);
    }
    const filters: Filter[] = [];
    if (query.reason !== undefined)
      filters.push({ column: 'reason', op: '=', value: query.reason });
    if (query.source !== undefined)
      filters.push({ column: 'source', op: '=', value: query.source });
    if (query.from !== undefined) {
      // The partition first, so whole days are pruned before stats are read.
      filters.push({ column: 'date', op: '>=', value: utcDate(query.from) });
      filters.push({ column: 'received_at', op: '>=', value: query.from });
    }
    if (query.to !== undefined) {
      filters.push({ column: 'date', op: '<=', value: utcDate(query.to - 1) });
      filters.push({ column: 'received_at', op: '<', value: query.to });
    }
    const result = await this.table.query({
      filters,
      orderBy: [{ column: 'received_at', desc: true }],
      limit,
      ...(signal ? { signal } : {}),
    });
    return result.rows.map((row) => ({
      receivedAt: microsOf(row.received_at),
      source: String(row.source),
      kind: String(row.kind) as Reject['kind'],
      reason: String(row.reason) as Reject['reason'],
      payload: String(row.payload),
      ...(row.detail === null || row.detail === undefined ? {} : { detail: String(row.detail) }),
    }));
  }
}

function microsOf(value: unknown): number {
  if (typeof value === 'number') return value;
  const micros = value instanceof LakeTimestamp ? value.epochMicros : undefined;
  if (micros === undefined)
    throw new Error(`rejects row received_at ${String(value)} is not a time`);
  return micros;
}
