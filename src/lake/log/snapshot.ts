import { AlphalakeError } from '../../domain/index.js';
import {
  parseCommit,
  type AddFile,
  type DomainMetadataAction,
  type MetadataAction,
  type ProtocolAction,
  type RemoveFile,
} from './actions.js';
import { readCheckpoint } from './checkpoint-reader.js';
import { commitTimestamps, listLog, segmentFor, type LogListing } from './log-segment.js';
import { TableState } from './log-replay.js';
import type { ObjectStore } from '../storage/index.js';
import { parseSchemaString, type ColumnSpec } from './schema.js';
import { checkReadable } from './table-features.js';

/** A table as of one version: immutable, cheap to share between queries. */
export interface Snapshot {
  readonly tablePath: string;
  readonly version: number;
  /** When this version was committed (PROTOCOL.md "Commit Provenance"). */
  readonly timestamp: Date;
  readonly schema: readonly ColumnSpec[];
  readonly partitionColumns: readonly string[];
  /** The live data files (add actions after reconciliation). */
  readonly files: readonly AddFile[];
  /** Removed files still remembered by the log (for VACUUM and checkpoints). */
  readonly tombstones: readonly RemoveFile[];
  readonly protocol: ProtocolAction;
  readonly metadata: MetadataAction;
  readonly properties: Readonly<Record<string, string>>;
  readonly domainMetadata: readonly DomainMetadataAction[];
  /** The last committed `txn.version` of `appId` (PROTOCOL.md "Transaction Identifiers"). */
  txnVersion(appId: string): number | undefined;
  /** Every application's last committed `txn.version` whose appId starts with `prefix`. */
  txnVersions(prefix: string): ReadonlyMap<string, number>;
  /** @internal the reconciled state, for incremental replay. */
  readonly state: TableState;
}

export interface SnapshotTarget {
  readonly version?: number;
  readonly timestamp?: Date;
}

export function isDeltaTable(listing: LogListing): boolean {
  return listing.latestVersion >= 0;
}

export async function loadSnapshot(
  store: ObjectStore,
  tablePath: string,
  at: SnapshotTarget = {},
  options: { listing?: LogListing; base?: Snapshot; signal?: AbortSignal } = {},
): Promise<Snapshot> {
  const listing = options.listing ?? (await listLog(store, tablePath, options.signal));
  if (!isDeltaTable(listing)) {
    throw new AlphalakeError('NOT_FOUND', `no Delta table at ${tablePath} (no _delta_log)`, {
      tablePath,
    });
  }
  const timestamps = commitTimestamps(listing);
  const version = resolveVersion(listing, timestamps, at, tablePath);
  const segment = segmentFor(listing, version, tablePath);

  let state: TableState;
  let commits = segment.commits;
  const base = options.base;
  const checkpointVersion = segment.checkpoint?.version ?? -1;
  if (base !== undefined && base.version <= version && base.version >= checkpointVersion) {
    state = cloneState(base.state);
    commits = segment.commits.filter((commit) => versionOfKey(commit.key) > base.version);
  } else {
    state = new TableState();
    if (segment.checkpoint)
      state.apply(await readCheckpoint(store, segment.checkpoint.keys, options.signal), undefined);
  }
  const bodies = await Promise.all(
    commits.map((commit) => store.get(commit.key, undefined, options.signal)),
  );
  commits.forEach((commit, i) =>
    state.apply(parseCommit(bodies[i] as Uint8Array), versionOfKey(commit.key)),
  );
  return snapshotFromState(
    state,
    tablePath,
    version,
    timestampOf(listing, timestamps, version, state),
  );
}

export function snapshotFromState(
  state: TableState,
  tablePath: string,
  version: number,
  timestamp: Date,
): Snapshot {
  const { protocol, metadata } = state;
  if (protocol === undefined || metadata === undefined) {
    throw new AlphalakeError(
      'NOT_FOUND',
      `table ${tablePath} has no protocol or metaData at version ${version}`,
    );
  }
  checkReadable(protocol, metadata, tablePath);
  const schema = parseSchemaString(metadata.schemaString);
  // PROTOCOL.md "Deletion Vectors": rows of such a file are hidden; we cannot apply them.
  for (const file of state.files.values()) {
    if (file.deletionVector !== null && file.deletionVector !== undefined) {
      throw new AlphalakeError(
        'UNSUPPORTED_TABLE_FEATURE',
        `table ${tablePath} has files with deletion vectors ("deletionVectors"), which alphalake cannot apply`,
        { feature: 'deletionVectors', tablePath },
      );
    }
  }
  return Object.freeze({
    tablePath,
    version,
    timestamp,
    schema,
    partitionColumns: [...metadata.partitionColumns],
    files: [...state.files.values()],
    tombstones: [...state.tombstones.values()],
    protocol,
    metadata,
    properties: metadata.configuration,
    domainMetadata: [...state.domains.values()],
    txnVersion: (appId: string) => state.txns.get(appId)?.version,
    txnVersions: (prefix: string) =>
      new Map(
        [...state.txns]
          .filter(([appId]) => appId.startsWith(prefix))
          .map(([appId, txn]) => [appId, txn.version]),
      ),
    state,
  });
}

function cloneState(source: TableState): TableState {
  const state = new TableState();
  state.protocol = source.protocol;
  state.metadata = source.metadata;
  for (const [k, v] of source.files) state.files.set(k, v);
  for (const [k, v] of source.tombstones) state.tombstones.set(k, v);
  for (const [k, v] of source.txns) state.txns.set(k, v);
  for (const [k, v] of source.domains) state.domains.set(k, v);
  for (const [k, v] of source.commitInfos) state.commitInfos.set(k, v);
  return state;
}

function versionOfKey(key: string): number {
  return Number(key.slice(key.lastIndexOf('/') + 1, key.lastIndexOf('/') + 21));
}

function resolveVersion(
  listing: LogListing,
  timestamps: Map<number, Date>,
  at: SnapshotTarget,
  tablePath: string,
): number {
  if (at.version !== undefined) {
    if (!Number.isInteger(at.version) || at.version < 0) {
      throw new AlphalakeError('BAD_USER_INPUT', `invalid version ${at.version}`);
    }
    return at.version;
  }
  if (at.timestamp !== undefined) {
    const target = at.timestamp.getTime();
    let found: number | undefined;
    for (const [version, ts] of timestamps) {
      if (ts.getTime() <= target && (found === undefined || version > found)) found = version;
    }
    if (found === undefined) {
      throw new AlphalakeError(
        'NOT_FOUND',
        `table ${tablePath} has no version committed at or before ${at.timestamp.toISOString()}`,
      );
    }
    return found;
  }
  return listing.latestVersion;
}

function timestampOf(
  listing: LogListing,
  timestamps: Map<number, Date>,
  version: number,
  state: TableState,
): Date {
  const inCommit = state.commitInfos.get(version)?.['inCommitTimestamp'];
  if (
    state.metadata?.configuration['delta.enableInCommitTimestamps'] === 'true' &&
    typeof inCommit === 'number'
  ) {
    return new Date(inCommit);
  }
  const ts = timestamps.get(version);
  if (ts) return ts;
  const checkpoint = listing.checkpoints.find((c) => c.version === version);
  return checkpoint ? new Date(0) : new Date(0);
}
