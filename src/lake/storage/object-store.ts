/**
 * The object store port: the few operations the Delta Lake protocol needs from storage.
 *
 * PROTOCOL.md ("Delta Log Entries", "Commit Provenance") requires that a commit file
 * `_delta_log/<version>.json` is created atomically and only if absent — that single
 * primitive (`putIfAbsent`) is what makes concurrent writers safe. Everything else
 * (list by prefix, ranged reads, deletes) is ordinary storage.
 *
 * Keys are `/`-separated, relative to the store's root, never starting with `/`.
 */
export interface ObjectStoreCapabilities {
  /** `putIfAbsent` is atomic (O_EXCL / link on disk, `If-None-Match: *` on S3). */
  readonly supportsConditionalPut: boolean;
  /** Objects live on the local disk already; `localPath` costs nothing. */
  readonly isLocal: boolean;
}

/** One listed object. `lastModified` is the commit timestamp the protocol uses for time travel. */
export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
}

/** A byte range, `end` exclusive. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface ObjectStore {
  readonly capabilities: ObjectStoreCapabilities;
  /** A human-readable location for messages (`file:///…`, `s3://bucket/prefix`). */
  readonly description: string;
  /** Creates `key` atomically; resolves `false` (and writes nothing) if it already exists. */
  putIfAbsent(key: string, bytes: Uint8Array, signal?: AbortSignal): Promise<boolean>;
  /** Creates or replaces `key` (data files, checkpoints, `_last_checkpoint`). */
  put(key: string, bytes: Uint8Array, signal?: AbortSignal): Promise<void>;
  /** Uploads a local file as `key` (data files written by DuckDB). */
  putFile(key: string, localFile: string, signal?: AbortSignal): Promise<void>;
  /** Reads `key` (or a range of it); rejects with NOT_FOUND if absent. */
  get(key: string, range?: ByteRange, signal?: AbortSignal): Promise<Uint8Array>;
  /** Metadata of `key`, or undefined if absent. */
  head(key: string, signal?: AbortSignal): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with `prefix`, sorted by key. */
  list(prefix: string, signal?: AbortSignal): Promise<ObjectInfo[]>;
  /** Deletes the keys; absent keys are not an error. */
  delete(keys: readonly string[], signal?: AbortSignal): Promise<void>;
  /**
   * A path on the local disk holding the object's bytes, for DuckDB's `read_parquet`.
   * Local stores return the file itself; remote stores download into their cache
   * (objects under a Delta table are immutable, so a cached copy never goes stale).
   */
  localPath(key: string, signal?: AbortSignal): Promise<string>;
  /**
   * A local path where a new object may be staged before `putFile`; for the local
   * store this is the final location, so no copy is needed.
   */
  stagingPath(key: string): Promise<string>;
}

/** Joins key segments with `/`, dropping empty segments and duplicate slashes. */
export function joinKey(...parts: string[]): string {
  return parts
    .flatMap((part) => part.split('/'))
    .filter((segment) => segment.length > 0)
    .join('/');
}
