import { AlphalakeError } from '../../domain/index.js';
import {
  decodeActionPath,
  type Action,
  type AddFile,
  type CommitInfoAction,
  type DomainMetadataAction,
  type MetadataAction,
  type ProtocolAction,
  type RemoveFile,
  type TxnAction,
} from './actions.js';

/**
 * Action reconciliation (PROTOCOL.md "Action Reconciliation"): the state of a table at a
 * version is the last protocol and metaData, the last txn per appId, the last
 * domainMetadata per domain, and the add files not later removed (keyed by their decoded
 * path; deletion-vector tables are refused before this matters). Removes are kept as
 * tombstones for VACUUM and checkpoints.
 */
export class TableState {
  protocol: ProtocolAction | undefined;
  metadata: MetadataAction | undefined;
  readonly files = new Map<string, AddFile>();
  readonly tombstones = new Map<string, RemoveFile>();
  readonly txns = new Map<string, TxnAction>();
  readonly domains = new Map<string, DomainMetadataAction>();
  /** commitInfo of the commit files replayed, by version (checkpoints carry none). */
  readonly commitInfos = new Map<number, CommitInfoAction>();

  apply(actions: readonly Action[], version: number | undefined): void {
    for (const action of actions) {
      if (action.add) {
        const add = normalizeAdd(action.add);
        const key = decodeActionPath(add.path);
        this.files.set(key, add);
        this.tombstones.delete(key);
      } else if (action.remove) {
        const key = decodeActionPath(action.remove.path);
        this.files.delete(key);
        this.tombstones.set(key, action.remove);
      } else if (action.metaData) {
        this.metadata = normalizeMetadata(action.metaData);
      } else if (action.protocol) {
        this.protocol = action.protocol;
      } else if (action.txn) {
        this.txns.set(action.txn.appId, action.txn);
      } else if (action.domainMetadata) {
        if (action.domainMetadata.removed) this.domains.delete(action.domainMetadata.domain);
        else this.domains.set(action.domainMetadata.domain, action.domainMetadata);
      } else if (action.commitInfo && version !== undefined) {
        this.commitInfos.set(version, action.commitInfo);
      } else if (action.sidecar || action.checkpointMetadata) {
        throw new AlphalakeError(
          'UNSUPPORTED_TABLE_FEATURE',
          'the table uses v2 checkpoints (v2Checkpoint)',
          {
            feature: 'v2Checkpoint',
          },
        );
      }
    }
  }
}

/** Numbers in checkpoints arrive as JSON numbers or strings (bigint); normalize them. */
function normalizeAdd(add: AddFile): AddFile {
  const raw = add as AddFile & { stats_parsed?: unknown; partitionValues_parsed?: unknown };
  let stats = raw.stats;
  if (
    (stats === null || stats === undefined) &&
    raw.stats_parsed !== null &&
    raw.stats_parsed !== undefined
  ) {
    stats = JSON.stringify(raw.stats_parsed);
  }
  const { stats_parsed: _s, partitionValues_parsed: _p, ...rest } = raw;
  return {
    ...rest,
    partitionValues: rest.partitionValues ?? {},
    size: Number(rest.size),
    modificationTime: Number(rest.modificationTime),
    stats: stats ?? null,
  };
}

function normalizeMetadata(metadata: MetadataAction): MetadataAction {
  return {
    ...metadata,
    partitionColumns: metadata.partitionColumns ?? [],
    configuration: metadata.configuration ?? {},
  };
}
