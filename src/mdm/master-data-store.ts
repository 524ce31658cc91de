import { AlphalakeError, type CorporateAction } from '../domain/index.js';

/**
 * The master-data store port: symbols, their ticker changes, corporate actions and the
 * audit log, as documents. Adapters sit beside it (`embedded-master-data-store.ts` on
 * @seald-io/nedb under ALPHALAKE_HOME, `mongo-master-data-store.ts` on MongoDB); one
 * contract suite (test/contracts/master-data.ts) runs on both. The store checks only
 * what it must enforce atomically: unique ids and tickers, and the symbol's version on
 * every replace (compare-and-set). Validation, history and audit policy live in
 * `MasterData` (master-data.ts).
 */

export const SYMBOL_STATUSES = ['ACTIVE', 'DELISTED', 'PENDING'] as const;
/**
 * ACTIVE: listed and trading; DELISTED: no longer trading (its history stays queryable
 * and it stays in the point-in-time universe of the dates it was listed); PENDING:
 * created by ingest for an unknown ticker (MDM_UNKNOWN_SYMBOLS=pending) and not yet
 * reviewed by an admin.
 */
export type SymbolStatus = (typeof SYMBOL_STATUSES)[number];

export const ASSET_CLASSES = ['EQUITY', 'ETF', 'ADR', 'FUND', 'INDEX', 'CRYPTO', 'OTHER'] as const;
export type AssetClass = (typeof ASSET_CLASSES)[number];

/** One security over its life: `id` stays the same when its ticker changes. */
export interface SymbolRecord {
  readonly id: string;
  /** The ticker it trades under now (unique among symbols). */
  readonly ticker: string;
  readonly name: string;
  /** Primary listing venue, an ISO 10383 market identifier code (MIC), e.g. XNAS. */
  readonly exchange: string;
  readonly assetClass: AssetClass;
  /** ISO 4217 code of the trading currency. */
  readonly currency: string;
  readonly sector: string | null;
  readonly industry: string | null;
  /** `YYYY-MM-DD`: first session; null when unknown (listed since forever). */
  readonly listedDate: string | null;
  /** `YYYY-MM-DD`: first session it no longer trades; null while listed. */
  readonly delistedDate: string | null;
  readonly status: SymbolStatus;
  /** Compare-and-set token: 1 on creation, +1 on every change. */
  readonly version: number;
  /** When the version was written, epoch µs. */
  readonly updatedAt: number;
}

/** A ticker change of one symbol (FB → META on 2022-06-09): `toTicker` from that date on. */
export interface SymbolChangeRecord {
  readonly id: string;
  readonly symbolId: string;
  readonly fromTicker: string;
  readonly toTicker: string;
  /** `YYYY-MM-DD`: the first session under `toTicker`. */
  readonly effectiveDate: string;
}

/**
 * A corporate action of one symbol. `symbol` is the ticker it was entered under; the
 * action belongs to the security (`symbolId`), so it follows ticker changes.
 */
export type CorporateActionRecord = CorporateAction & {
  readonly id: string;
  readonly symbolId: string;
};

/** What an audit record says was done. */
export const AUDIT_ACTIONS = [
  'symbol.create',
  'symbol.update',
  'symbol.delist',
  'symbol.rename',
  'corporateAction.add',
  'corporateAction.remove',
  // Users and API keys (src/auth) are recorded in the same log: one place for who changed what.
  'user.add',
  'user.set-role',
  'key.create',
  'key.revoke',
  // Jobs a mutation enqueued or cancelled (src/graphql/resolvers/job-resolver.ts): who asked for what.
  'job.enqueue',
  'job.cancel',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One change to master data: who, when, what, and the record before and after it. */
export interface AuditRecord {
  readonly id: string;
  /** Epoch µs. */
  readonly at: number;
  readonly actor: string;
  readonly action: AuditAction;
  /** The id of the symbol or corporate action changed. */
  readonly entity: string;
  /** The record before (null on creation) and after (null on removal). */
  readonly before: unknown;
  readonly after: unknown;
}

export interface AuditQuery {
  readonly entity?: string | undefined;
  readonly actor?: string | undefined;
  /** Records at or after this time, epoch µs. */
  readonly from?: number | undefined;
  /** At most this many, the oldest first. */
  readonly limit?: number | undefined;
}

/**
 * The audit outbox. A change and its audit record are one document write: the symbol or
 * corporate action written carries the record in its `pendingAudit` list (a single
 * document is written atomically by NeDB and by MongoDB, "Atomicity and Transactions" in
 * the MongoDB manual; neither store here has a transaction across collections, and
 * mongo-java-server has none at all). `drainAudit` then moves each pending record into the
 * append-only audit collection under its own id and takes it off the document. A crash
 * between the two steps leaves the record pending: the next drain (after the next write,
 * before an audit read, on open) moves it. A crash inside the drain, after the audit
 * insert and before the pull, is harmless too: the insert of the same id is refused as a
 * duplicate and the pull follows. So nothing is lost and nothing duplicated
 * (docs/mdm.md "Audit log").
 *
 * The `audit` argument of the writes is optional for tools that seed a store directly;
 * `MasterData` always passes one.
 *
 * A rename's ticker-change record travels the same way: `replaceSymbol` writes it into the
 * symbol document's `pendingChanges` in the same write as the new ticker, `changes()`
 * lists it from there at once, and the drain moves it into the change collection (a
 * duplicate id there means a drain already did). A crash after the rename's write leaves
 * the new ticker with its history, never one without the other.
 */
export interface MasterDataStore {
  /** Which adapter this is, for `/readyz` and logs. */
  readonly backend: 'embedded' | 'mongodb';

  symbols(): Promise<SymbolRecord[]>;
  /** CONFLICT when the id or the ticker is taken. With `audit`, the record goes in the same write. */
  insertSymbol(symbol: SymbolRecord, audit?: AuditRecord): Promise<void>;
  /**
   * Compare-and-set: replaces the symbol `next.id` if its stored version is still
   * `expectedVersion`, atomically, with `audit` added to its pending records and `change`
   * (a rename's ticker change) to its pending changes in the same write. CONFLICT when it
   * is not (another edit won), or when `next.ticker` is another symbol's; NOT_FOUND when
   * there is no such symbol.
   */
  replaceSymbol(
    next: SymbolRecord,
    expectedVersion: number,
    audit?: AuditRecord,
    change?: SymbolChangeRecord,
  ): Promise<void>;

  /** Every ticker change, pending ones included (by effective date, then id). */
  changes(): Promise<SymbolChangeRecord[]>;
  /** CONFLICT when the id is taken. For tools that seed a store; a rename goes through `replaceSymbol`. */
  insertChange(change: SymbolChangeRecord): Promise<void>;

  corporateActions(): Promise<CorporateActionRecord[]>;
  /** CONFLICT when the id is taken (ids are `symbolId:kind:exDate`: one of a kind a day). */
  insertCorporateAction(action: CorporateActionRecord, audit?: AuditRecord): Promise<void>;
  /**
   * The removed action, or undefined when there was none. With `audit` the action is
   * first marked removed (unlisted at once) carrying the record, and the drain deletes it
   * once the record is in the log.
   */
  deleteCorporateAction(
    id: string,
    audit?: AuditRecord,
  ): Promise<CorporateActionRecord | undefined>;

  /** Append-only: there is no update or delete of audit records. */
  appendAudit(record: AuditRecord): Promise<void>;
  /**
   * Drains the outbox: moves every pending audit record into the audit log and every
   * pending ticker change into the change collection (idempotent; safe to run from
   * several processes at once): how many audit records were moved by this call.
   */
  drainAudit(): Promise<number>;
  /** Matching records in the order they were written (by `at`, then id). */
  audit(query: AuditQuery): Promise<AuditRecord[]>;

  /**
   * Whether the store answers now (MongoDB: a `ping` within a timeout), for `/readyz`.
   * Never throws: a store that cannot answer reports `ready: false` with why.
   */
  health(signal?: AbortSignal): Promise<MasterDataStoreHealth>;

  close(): Promise<void>;
}

export interface MasterDataStoreHealth {
  readonly ready: boolean;
  readonly detail: string;
}

/**
 * The changes a store lists: those still pending in symbol documents (read first) and
 * those drained, each once by id. Pending ones are read before the drained ones so a
 * drain between the two reads (insert, then pull) cannot hide a change from both.
 */
export function changesInOrder(
  pending: readonly SymbolChangeRecord[],
  drained: readonly SymbolChangeRecord[],
): SymbolChangeRecord[] {
  const byId = new Map<string, SymbolChangeRecord>();
  for (const change of [...drained, ...pending])
    if (!byId.has(change.id)) byId.set(change.id, change);
  return [...byId.values()].sort((a, b) =>
    a.effectiveDate === b.effectiveDate
      ? a.id < b.id
        ? -1
        : a.id > b.id
          ? 1
          : 0
      : a.effectiveDate < b.effectiveDate
        ? -1
        : 1,
  );
}

/** The refusal of a compare-and-set: NOT_FOUND without the symbol, CONFLICT with a newer one. */
export function staleVersion(
  next: SymbolRecord,
  expectedVersion: number,
  current: number | undefined,
): AlphalakeError {
  if (current === undefined) {
    return new AlphalakeError('NOT_FOUND', `no symbol with id ${next.id}`, { id: next.id });
  }
  return new AlphalakeError(
    'CONFLICT',
    `symbol ${next.ticker} was changed by someone else: version ${current}, not ${expectedVersion}; read it again and retry`,
    { id: next.id, expectedVersion, currentVersion: current },
  );
}
