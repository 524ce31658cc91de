/**
 * Delta log actions (PROTOCOL.md, "Actions"). Field names follow the protocol exactly,
 * because these objects are serialized as-is into commit files and checkpoints.
 */
export interface ProtocolAction {
  readonly minReaderVersion: number;
  readonly minWriterVersion: number;
  readonly readerFeatures?: readonly string[];
  readonly writerFeatures?: readonly string[];
}

export interface MetadataAction {
  readonly id: string;
  readonly name?: string | null;
  readonly description?: string | null;
  readonly format: { readonly provider: string; readonly options?: Record<string, string> };
  readonly schemaString: string;
  readonly partitionColumns: readonly string[];
  readonly configuration: Readonly<Record<string, string>>;
  readonly createdTime?: number | null;
}

/** PROTOCOL.md "Add File and Remove File". `path` is a URI-encoded relative path (or absolute URI). */
export interface AddFile {
  readonly path: string;
  readonly partitionValues: Readonly<Record<string, string | null>>;
  readonly size: number;
  readonly modificationTime: number;
  readonly dataChange: boolean;
  /** Per-file statistics as a JSON string ("Per-file Statistics"). */
  readonly stats?: string | null;
  readonly tags?: Readonly<Record<string, string>> | null;
  readonly deletionVector?: unknown;
  readonly baseRowId?: number | null;
  readonly defaultRowCommitVersion?: number | null;
  readonly clusteringProvider?: string | null;
}

export interface RemoveFile {
  readonly path: string;
  readonly deletionTimestamp?: number | null;
  readonly dataChange: boolean;
  readonly extendedFileMetadata?: boolean;
  readonly partitionValues?: Readonly<Record<string, string | null>> | null;
  readonly size?: number | null;
  readonly stats?: string | null;
  readonly tags?: Readonly<Record<string, string>> | null;
  readonly deletionVector?: unknown;
}

/** PROTOCOL.md "Transaction Identifiers": the idempotency marker of an application's writes. */
export interface TxnAction {
  readonly appId: string;
  readonly version: number;
  readonly lastUpdated?: number | null;
}

export interface DomainMetadataAction {
  readonly domain: string;
  readonly configuration: string;
  readonly removed: boolean;
}

export type CommitInfoAction = Readonly<Record<string, unknown>>;

/** One line of a commit file; exactly one key is set. Unknown actions are ignored by readers. */
export interface Action {
  protocol?: ProtocolAction;
  metaData?: MetadataAction;
  add?: AddFile;
  remove?: RemoveFile;
  txn?: TxnAction;
  commitInfo?: CommitInfoAction;
  domainMetadata?: DomainMetadataAction;
  cdc?: unknown;
  checkpointMetadata?: unknown;
  sidecar?: unknown;
}

/** Parses a commit file: newline-delimited JSON, one action per line. */
export function parseCommit(bytes: Uint8Array): Action[] {
  const text = new TextDecoder().decode(bytes);
  const actions: Action[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.length > 0) actions.push(JSON.parse(trimmed) as Action);
  }
  return actions;
}

export function serializeCommit(actions: readonly Action[]): Uint8Array {
  return new TextEncoder().encode(
    actions.map((action) => JSON.stringify(action)).join('\n') + '\n',
  );
}

/**
 * The data file an add/remove path names, relative to the table root. Paths are URIs
 * (RFC 2396) and must be decoded (PROTOCOL.md "Add File and Remove File").
 */
export function decodeActionPath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** Encodes a relative file path as the protocol's URI form (percent-encoding per segment). */
export function encodeActionPath(path: string): string {
  return path
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment)
        .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
        .replaceAll('%3D', '='),
    )
    .join('/');
}
