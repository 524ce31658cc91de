import { AlphalakeError } from '../../domain/index.js';
import { decodeActionPath } from '../log/index.js';
import { joinKey, type ObjectStore } from '../storage/index.js';
import type { Snapshot } from '../log/index.js';

/**
 * VACUUM: deletes data files the table no longer references and that are older than the
 * retention period (PROTOCOL.md "Add File and Remove File": removed files stay until the
 * tombstone expires, so time travel and concurrent readers within the retention window
 * keep working). Files never committed (a crashed writer's) are orphans once older than
 * the retention period too. `_delta_log/` and hidden (`_`/`.`) paths are never touched.
 */
export interface VacuumOptions {
  /** @default 168 (7 days) */
  readonly retentionHours?: number;
  readonly dryRun?: boolean;
  /** Refuse a retention below the table's `delta.deletedFileRetentionDuration` (7 days). @default true */
  readonly enforceRetention?: boolean;
  readonly signal?: AbortSignal;
}

export interface VacuumResult {
  /** Keys (relative to the table) deleted, or that would be in a dry run. */
  readonly filesDeleted: string[];
  readonly dryRun: boolean;
}

export const DEFAULT_RETENTION_HOURS = 168;

export async function vacuumSnapshot(
  store: ObjectStore,
  snapshot: Snapshot,
  minimumRetentionMs: number,
  options: VacuumOptions,
): Promise<VacuumResult> {
  const retentionHours = options.retentionHours ?? DEFAULT_RETENTION_HOURS;
  if (!(retentionHours >= 0))
    throw new AlphalakeError('BAD_USER_INPUT', `invalid retentionHours ${retentionHours}`);
  const retentionMs = retentionHours * 3_600_000;
  if (options.enforceRetention !== false && retentionMs < minimumRetentionMs) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `retention of ${retentionHours} hours is shorter than the table's ${minimumRetentionMs / 3_600_000} hours; ` +
        'readers of older versions or running writers could lose files (pass enforceRetention: false to override)',
      { retentionHours },
    );
  }
  const cutoff = Date.now() - retentionMs;
  const live = new Set(snapshot.files.map((file) => decodeActionPath(file.path)));
  const recentlyRemoved = new Set(
    snapshot.tombstones
      .filter((remove) => (remove.deletionTimestamp ?? 0) > cutoff)
      .map((remove) => decodeActionPath(remove.path)),
  );
  const prefix = snapshot.tablePath === '' ? '' : `${snapshot.tablePath}/`;
  const objects = await store.list(prefix, options.signal);
  const doomed: string[] = [];
  for (const object of objects) {
    const relative = object.key.slice(prefix.length);
    if (relative.split('/').some((segment) => segment.startsWith('_') || segment.startsWith('.')))
      continue;
    if (live.has(relative) || recentlyRemoved.has(relative)) continue;
    if (object.lastModified.getTime() > cutoff) continue;
    doomed.push(relative);
  }
  if (!options.dryRun)
    await store.delete(
      doomed.map((relative) => joinKey(snapshot.tablePath, relative)),
      options.signal,
    );
  return { filesDeleted: doomed, dryRun: options.dryRun ?? false };
}
