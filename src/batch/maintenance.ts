import type { Medallion } from './medallion.js';

/** What one table's compaction did; batch work reports per item rather than throwing halfway. */
export interface CompactionResult {
  readonly table: string;
  readonly status: 'compacted' | 'unchanged' | 'failed';
  readonly filesRemoved: number;
  readonly filesAdded: number;
  readonly version?: number;
  readonly error?: string;
}

/**
 * Compacts the medallion tables: the sink commits about one small file per table per
 * minute, and OPTIMIZE bin-packs each date partition back into few, clustered files
 * (dataChange=false, so readers and the sink's txn state are unaffected).
 */
export async function compactLake(
  tables: Medallion,
  signal?: AbortSignal,
): Promise<{ results: CompactionResult[] }> {
  const results: CompactionResult[] = [];
  for (const [name, table] of Object.entries(tables)) {
    try {
      const outcome = await table.optimize(signal ? { signal } : {});
      results.push({
        table: name,
        status: outcome.version === undefined ? 'unchanged' : 'compacted',
        filesRemoved: outcome.filesRemoved,
        filesAdded: outcome.filesAdded,
        ...(outcome.version === undefined ? {} : { version: outcome.version }),
      });
    } catch (error) {
      results.push({
        table: name,
        status: 'failed',
        filesRemoved: 0,
        filesAdded: 0,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return { results };
}
