import { completeAppId, type CheckpointChunk, type JobProgress } from '../../ingest/index.js';
import type { DeltaTable, TxnMarker } from '../../lake/index.js';

/**
 * A resumable file job's checkpoint in each table it writes (src/ingest/files/file-backfill.ts):
 * a Delta `txn` whose appId is the job and whose version is the source rows the table
 * holds (PROTOCOL.md "Transaction Identifiers"), and `completeAppId(job)` once the file
 * is done, both in the same commits as the rows.
 */

/** The fewest rows of `job` the tables hold, and whether every one marks it complete. */
export async function jobProgress(
  tables: readonly DeltaTable[],
  job: string,
  signal?: AbortSignal,
): Promise<JobProgress> {
  const snapshots = await Promise.all(tables.map((t) => t.snapshot(undefined, signal)));
  return {
    rows: Math.min(...snapshots.map((s) => s.txnVersion(job) ?? 0)),
    complete: snapshots.every((s) => s.txnVersion(completeAppId(job)) !== undefined),
  };
}

/**
 * The txns a table's commit of `chunk` carries, or undefined when it holds the chunk
 * already (and, for the last one, the complete mark): the job's rows when it holds fewer
 * (expected where it stands, so a second run of the same job conflicts), and the mark.
 */
export function jobTxns(
  snapshot: { txnVersion(appId: string): number | undefined },
  job: string,
  chunk: Pick<CheckpointChunk, 'rowsEnd' | 'last'>,
): TxnMarker[] | undefined {
  const held = snapshot.txnVersion(job) ?? 0;
  const txns: TxnMarker[] = [];
  if (held < chunk.rowsEnd) txns.push({ appId: job, version: chunk.rowsEnd, expected: held });
  if (chunk.last && snapshot.txnVersion(completeAppId(job)) === undefined)
    txns.push({ appId: completeAppId(job), version: chunk.rowsEnd });
  return txns.length > 0 ? txns : undefined;
}
