import type { Medallion } from './medallion.js';

/** What maintenance did to one table; batch work reports per item rather than throwing halfway. */
export interface MaintenanceResult {
  readonly table: string;
  readonly status: 'maintained' | 'unchanged' | 'failed';
  /** OPTIMIZE: small files replaced, and the files that replaced them. */
  readonly filesRemoved: number;
  readonly filesAdded: number;
  /** VACUUM: unreferenced files older than the retention (7 days) deleted. */
  readonly filesVacuumed: number;
  readonly version?: number;
  readonly error?: string;
}

/**
 * Keeps the medallion tables tidy: the sink commits about one small file per table per
 * minute, so OPTIMIZE bin-packs each date partition back into few, clustered files
 * (dataChange=false: readers and the sink's txn state are unaffected), and VACUUM
 * deletes the files that compaction replaced once they are older than the default
 * 7-day retention (so time travel keeps a week).
 */
export async function maintainLake(
  tables: Medallion,
  signal?: AbortSignal,
): Promise<{ results: MaintenanceResult[] }> {
  const results: MaintenanceResult[] = [];
  for (const [name, table] of Object.entries(tables)) {
    try {
      const optimized = await table.optimize(signal ? { signal } : {});
      const vacuumed = await table.vacuum(signal ? { signal } : {});
      const changed = optimized.version !== undefined || vacuumed.filesDeleted.length > 0;
      results.push({
        table: name,
        status: changed ? 'maintained' : 'unchanged',
        filesRemoved: optimized.filesRemoved,
        filesAdded: optimized.filesAdded,
        filesVacuumed: vacuumed.filesDeleted.length,
        ...(optimized.version === undefined ? {} : { version: optimized.version }),
      });
    } catch (error) {
      results.push({
        table: name,
        status: 'failed',
        filesRemoved: 0,
        filesAdded: 0,
        filesVacuumed: 0,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return { results };
}
