import { setTimeout as sleep } from 'node:timers/promises';
import { AlphalakeError } from '../../domain/index.js';
import { decodeActionPath, parseCommit, serializeCommit, type Action } from './actions.js';
import { commitKey, listLog } from './log-segment.js';
import type { ObjectStore } from '../storage/index.js';
import { loadSnapshot, type Snapshot } from './snapshot.js';

/**
 * Optimistic concurrency (PROTOCOL.md "Optimistic Concurrency Control"): a commit is
 * written with put-if-absent as version N+1 of the snapshot it read. If another writer
 * won N+1, the winning commits are checked for logical conflicts with what this
 * transaction read and wrote; without a conflict it retries as the next version.
 *
 * - Blind appends never conflict with data changes.
 * - A transaction that read partitions (overwrite) conflicts with files added to them.
 * - A transaction that removes files conflicts with a winner that removed the same file.
 * - Any protocol or metaData change by the winner conflicts.
 * - A winner's `txn` for any of our `appIds` conflicts (that application's batch was, or is
 *   being, committed: a commit with one txn action per source partition conflicts on each).
 */
export interface CommitPlan {
  /** `append`, `overwrite`, `optimize`, …: named in errors. */
  readonly operation: string;
  /** The actions to commit, built against the snapshot being committed on top of. */
  readonly actions: readonly Action[];
  /** Paths this transaction removes (decoded), for remove/remove conflicts. */
  readonly removedPaths?: ReadonlySet<string>;
  /** Partitions this transaction read: a winner adding a file matching them conflicts. */
  readonly readPartitions?: (partitionValues: Readonly<Record<string, string | null>>) => boolean;
  /** The `txn` appIds this commit carries. */
  readonly appIds?: ReadonlySet<string>;
  readonly maxAttempts?: number;
  readonly signal?: AbortSignal;
}

export interface CommittedVersion {
  readonly version: number;
  /** Snapshots of winners skipped over while retrying (how many retries it took). */
  readonly attempts: number;
}

export async function commitWithRetry(
  store: ObjectStore,
  base: Snapshot,
  plan: CommitPlan,
): Promise<CommittedVersion> {
  const bytes = serializeCommit(plan.actions);
  const maxAttempts = plan.maxAttempts ?? 10_000;
  let version = base.version + 1;
  for (let attempt = 1; ; attempt++) {
    plan.signal?.throwIfAborted();
    if (await store.putIfAbsent(commitKey(base.tablePath, version), bytes, plan.signal)) {
      return { version, attempts: attempt };
    }
    if (attempt >= maxAttempts) {
      throw new AlphalakeError('CONFLICT', `${plan.operation} gave up after ${attempt} attempts`, {
        version,
      });
    }
    // Lost the race: read every commit that won, from `version` up to the latest.
    const listing = await listLog(store, base.tablePath, plan.signal);
    for (let winner = version; winner <= listing.latestVersion; winner++) {
      const info = listing.commits.get(winner);
      if (info === undefined) continue;
      checkConflicts(
        parseCommit(await store.get(info.key, undefined, plan.signal)),
        winner,
        plan,
        base.tablePath,
      );
    }
    version = listing.latestVersion + 1;
    // Jittered backoff, growing with contention, capped low: commits are small files.
    await sleep(Math.random() * Math.min(100, 2 * attempt), undefined, { signal: plan.signal });
  }
}

function checkConflicts(
  winning: readonly Action[],
  winner: number,
  plan: CommitPlan,
  tablePath: string,
): void {
  const conflict = (reason: string): never => {
    throw new AlphalakeError(
      'CONFLICT',
      `${plan.operation} on ${tablePath} conflicts with the concurrent commit ${winner}: ${reason}`,
      { winningVersion: winner, reason },
    );
  };
  for (const action of winning) {
    if (action.protocol) conflict('the protocol changed');
    if (action.metaData) conflict('the table metadata changed');
    if (action.txn && plan.appIds?.has(action.txn.appId)) {
      conflict(
        `application ${action.txn.appId} committed transaction version ${action.txn.version}`,
      );
    }
    if (
      action.add &&
      action.add.dataChange !== false &&
      plan.readPartitions?.(action.add.partitionValues ?? {})
    ) {
      conflict('files were added to a partition this transaction read');
    }
    if (action.remove && plan.removedPaths?.has(decodeActionPath(action.remove.path))) {
      conflict(`file ${action.remove.path} was removed concurrently`);
    }
  }
}

/** Reloads the snapshot after a commit, incrementally from `base`. */
export async function snapshotAfter(
  store: ObjectStore,
  base: Snapshot,
  version: number,
): Promise<Snapshot> {
  return loadSnapshot(store, base.tablePath, { version }, { base });
}
