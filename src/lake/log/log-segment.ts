import { AlphalakeError } from '../../domain/index.js';
import { joinKey, type ObjectInfo, type ObjectStore } from '../storage/index.js';

/**
 * The files of `_delta_log/` (PROTOCOL.md "Delta Log Entries", "Checkpoints") and the
 * segment needed to reconstruct one version: the newest complete checkpoint at or below
 * it plus every commit after. The listing, not `_last_checkpoint`, is authoritative, so a
 * stale or missing `_last_checkpoint` costs nothing but a listing.
 */
export interface CheckpointFiles {
  readonly version: number;
  readonly keys: readonly string[];
}

export interface LogListing {
  readonly commits: ReadonlyMap<number, ObjectInfo>;
  readonly checkpoints: readonly CheckpointFiles[];
  readonly latestVersion: number;
}

export interface LogSegment {
  readonly version: number;
  readonly checkpoint: CheckpointFiles | undefined;
  readonly commits: readonly ObjectInfo[];
}

const COMMIT = /^(\d{20})\.json$/;
const CLASSIC_CHECKPOINT = /^(\d{20})\.checkpoint\.parquet$/;
const MULTIPART_CHECKPOINT = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/;

export function logDir(tablePath: string): string {
  return joinKey(tablePath, '_delta_log');
}

export function commitKey(tablePath: string, version: number): string {
  return joinKey(logDir(tablePath), `${String(version).padStart(20, '0')}.json`);
}

export async function listLog(
  store: ObjectStore,
  tablePath: string,
  signal?: AbortSignal,
): Promise<LogListing> {
  const dir = logDir(tablePath);
  const objects = await store.list(dir + '/', signal);
  const commits = new Map<number, ObjectInfo>();
  const parts = new Map<string, { version: number; total: number; keys: Map<number, string> }>();
  const checkpoints: CheckpointFiles[] = [];
  for (const object of objects) {
    const name = object.key.slice(dir.length + 1);
    if (name.includes('/')) continue; // _commits/, _sidecars/, …
    let match = COMMIT.exec(name);
    if (match) {
      commits.set(Number(match[1]), object);
      continue;
    }
    match = CLASSIC_CHECKPOINT.exec(name);
    if (match) {
      checkpoints.push({ version: Number(match[1]), keys: [object.key] });
      continue;
    }
    match = MULTIPART_CHECKPOINT.exec(name);
    if (match) {
      const id = `${match[1]}/${match[3]}`;
      const entry = parts.get(id) ?? {
        version: Number(match[1]),
        total: Number(match[3]),
        keys: new Map(),
      };
      entry.keys.set(Number(match[2]), object.key);
      parts.set(id, entry);
    }
    // UUID-named (v2) checkpoints and compacted commits are optional accelerators: skipped.
  }
  for (const entry of parts.values()) {
    if (entry.keys.size === entry.total) {
      checkpoints.push({
        version: entry.version,
        keys: [...entry.keys.entries()].sort((a, b) => a[0] - b[0]).map(([, key]) => key),
      });
    }
  }
  checkpoints.sort((a, b) => a.version - b.version);
  const latestCommit = Math.max(-1, ...commits.keys());
  const latestCheckpoint = Math.max(-1, ...checkpoints.map((c) => c.version));
  return { commits, checkpoints, latestVersion: Math.max(latestCommit, latestCheckpoint) };
}

/** The checkpoint + commits that reconstruct `version`, or NOT_FOUND if the log lost it. */
export function segmentFor(listing: LogListing, version: number, tablePath: string): LogSegment {
  if (version < 0 || version > listing.latestVersion) {
    throw new AlphalakeError('NOT_FOUND', `table ${tablePath} has no version ${version}`, {
      version,
      latestVersion: listing.latestVersion,
    });
  }
  const candidates = listing.checkpoints.filter((c) => c.version <= version).reverse();
  for (const checkpoint of [...candidates, undefined]) {
    const from = checkpoint === undefined ? 0 : checkpoint.version + 1;
    const commits: ObjectInfo[] = [];
    let complete = true;
    for (let v = from; v <= version; v++) {
      const commit = listing.commits.get(v);
      if (commit === undefined) {
        complete = false;
        break;
      }
      commits.push(commit);
    }
    if (complete) return { version, checkpoint, commits };
  }
  throw new AlphalakeError(
    'NOT_FOUND',
    `version ${version} of table ${tablePath} can no longer be reconstructed (its log was cleaned up)`,
    { version },
  );
}

/**
 * Commit timestamps for time travel (PROTOCOL.md "Commit Provenance"): the commit file's
 * modification time, made strictly increasing as Spark does, or `inCommitTimestamp` when
 * the table enables in-commit timestamps (resolved by the caller).
 */
export function commitTimestamps(listing: LogListing): Map<number, Date> {
  const out = new Map<number, Date>();
  let previous = -Infinity;
  for (const version of [...listing.commits.keys()].sort((a, b) => a - b)) {
    const info = listing.commits.get(version);
    if (info === undefined) continue;
    const ms = Math.max(info.lastModified.getTime(), previous + 1);
    out.set(version, new Date(ms));
    previous = ms;
  }
  return out;
}
