import { mkdir, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import nedb from '@seald-io/nedb';
import { AlphalakeError } from '../domain/index.js';
import type {
  AuditQuery,
  AuditRecord,
  CorporateActionRecord,
  MasterDataStore,
  MasterDataStoreHealth,
  SymbolChangeRecord,
  SymbolRecord,
} from './master-data-store.js';
import { staleVersion } from './master-data-store.js';

/**
 * The embedded master-data store: one @seald-io/nedb datastore per collection, each an
 * append-only file of JSON lines under `<ALPHALAKE_HOME>/mdm/` (NeDB appends every
 * insert, update and removal as a line, a later line for an `_id` replacing the earlier
 * ones, and compacts the file when it loads it, so a restart replays everything
 * written). NeDB runs its operations one at a time through an executor queue, which
 * makes `update({ _id, version }, …)` a compare-and-set within the process; a unique
 * index on `ticker` refuses a second symbol with a taken ticker.
 *
 * NeDB has no cross-process locking: a deployment whose processes share master data
 * uses MongoDB (MONGODB_URI). Processes that share one folder anyway (split roles on one
 * ALPHALAKE_HOME) load it one at a time under a lock (loading compacts the files: a
 * rewrite and a rename that two loads at once would trip over), then append side by
 * side; docs/mdm.md says what each then sees.
 */
export class EmbeddedMasterDataStore implements MasterDataStore {
  readonly backend = 'embedded';

  private constructor(
    private readonly dir: string | undefined,
    private readonly symbolsDb: Datastore<Document>,
    private readonly changesDb: Datastore<Document>,
    private readonly actionsDb: Datastore<Document>,
    private readonly auditDb: Datastore<Document>,
  ) {}

  /**
   * Opens (creating) the store in `dir`, loading what an earlier process wrote; with
   * `dir` undefined, a store in memory only (for processes that keep no master data).
   */
  static async open(dir: string | undefined): Promise<EmbeddedMasterDataStore> {
    if (dir === undefined) return EmbeddedMasterDataStore.load(undefined);
    await mkdir(dir, { recursive: true });
    return withFolderLock(path.join(dir, 'load.lock'), () => EmbeddedMasterDataStore.load(dir));
  }

  private static async load(dir: string | undefined): Promise<EmbeddedMasterDataStore> {
    const open = async (name: string) => {
      const db = new Datastore<Document>(
        dir === undefined ? { inMemoryOnly: true } : { filename: path.join(dir, `${name}.db`) },
      );
      await db.loadDatabaseAsync();
      return db;
    };
    const store = new EmbeddedMasterDataStore(
      dir,
      await open('symbols'),
      await open('symbol-changes'),
      await open('corporate-actions'),
      await open('audit'),
    );
    await store.symbolsDb.ensureIndexAsync({ fieldName: 'ticker', unique: true });
    await store.auditDb.ensureIndexAsync({ fieldName: 'at' });
    return store;
  }

  async symbols(): Promise<SymbolRecord[]> {
    return (await this.symbolsDb.findAsync({}).sort({ ticker: 1 })).map(fromDocument<SymbolRecord>);
  }

  async insertSymbol(symbol: SymbolRecord, audit?: AuditRecord): Promise<void> {
    await this.symbolsDb
      .insertAsync(withPending(toDocument(symbol), audit))
      .catch(uniqueToConflict('symbol', symbol));
  }

  async replaceSymbol(
    next: SymbolRecord,
    expectedVersion: number,
    audit?: AuditRecord,
  ): Promise<void> {
    // One update of one document: the new fields and the pending audit record together.
    const { id: _id, ...fields } = next;
    const { numAffected } = await this.symbolsDb
      .updateAsync(
        { _id: next.id, version: expectedVersion },
        { $set: fields, ...(audit ? { $push: { [PENDING]: audit } } : {}) },
        {},
      )
      .catch(uniqueToConflict('symbol', next));
    if (numAffected === 1) return;
    const current = await this.symbolsDb.findOneAsync({ _id: next.id });
    throw staleVersion(next, expectedVersion, current ? Number(current.version) : undefined);
  }

  async changes(): Promise<SymbolChangeRecord[]> {
    return (await this.changesDb.findAsync({}).sort({ effectiveDate: 1, _id: 1 })).map(
      fromDocument<SymbolChangeRecord>,
    );
  }

  async insertChange(change: SymbolChangeRecord): Promise<void> {
    await this.changesDb
      .insertAsync(toDocument(change))
      .catch(uniqueToConflict('symbol change', change));
  }

  async corporateActions(): Promise<CorporateActionRecord[]> {
    return (
      await this.actionsDb.findAsync({ [REMOVED]: { $ne: true } }).sort({ exDate: 1, _id: 1 })
    ).map(fromDocument<CorporateActionRecord>);
  }

  async insertCorporateAction(action: CorporateActionRecord, audit?: AuditRecord): Promise<void> {
    await this.actionsDb
      .insertAsync(withPending(toDocument(action), audit))
      .catch(uniqueToConflict('corporate action', action));
  }

  async deleteCorporateAction(
    id: string,
    audit?: AuditRecord,
  ): Promise<CorporateActionRecord | undefined> {
    const found = await this.actionsDb.findOneAsync({ _id: id, [REMOVED]: { $ne: true } });
    if (!found) return undefined;
    if (!audit) {
      const removed = await this.actionsDb.removeAsync({ _id: id }, {});
      return removed === 1 ? fromDocument<CorporateActionRecord>(found) : undefined;
    }
    // Marked removed with its audit record in one write; the drain deletes it after.
    const { numAffected } = await this.actionsDb.updateAsync(
      { _id: id, [REMOVED]: { $ne: true } },
      { $set: { [REMOVED]: true }, $push: { [PENDING]: audit } },
      {},
    );
    return numAffected === 1 ? fromDocument<CorporateActionRecord>(found) : undefined;
  }

  async appendAudit(record: AuditRecord): Promise<void> {
    await this.auditDb.insertAsync(toDocument(record)).catch(uniqueToConflict('audit', record));
  }

  async drainAudit(): Promise<number> {
    let moved = 0;
    for (const db of [this.symbolsDb, this.actionsDb]) {
      for (const document of await db.findAsync({ [`${PENDING}.0`]: { $exists: true } })) {
        for (const record of document[PENDING] as AuditRecord[]) {
          // The same id twice (a drain that died before its pull, or another process's
          // drain) is refused by the `_id` index: the record is in the log once.
          const inserted = await this.auditDb.insertAsync(toDocument(record)).then(
            () => true,
            (error: unknown) => {
              if ((error as { errorType?: string }).errorType === 'uniqueViolated') return false;
              throw error;
            },
          );
          if (inserted) moved++;
          await db.updateAsync(
            { _id: document._id },
            { $pull: { [PENDING]: { id: record.id } } },
            {},
          );
        }
        if (document[REMOVED] === true) {
          await db.removeAsync({ _id: document._id, [REMOVED]: true, [PENDING]: { $size: 0 } }, {});
        }
      }
    }
    return moved;
  }

  async audit(query: AuditQuery): Promise<AuditRecord[]> {
    const filter: Record<string, unknown> = {};
    if (query.entity !== undefined) filter.entity = query.entity;
    if (query.actor !== undefined) filter.actor = query.actor;
    if (query.from !== undefined) filter.at = { $gte: query.from };
    let cursor = this.auditDb.findAsync(filter).sort({ at: 1, _id: 1 });
    if (query.limit !== undefined) cursor = cursor.limit(query.limit);
    return (await cursor).map(fromDocument<AuditRecord>);
  }

  async health(): Promise<MasterDataStoreHealth> {
    // In this process: it answers whenever the process does.
    return { ready: true, detail: this.dir ? `NeDB files in ${this.dir}` : 'in memory' };
  }

  async close(): Promise<void> {
    // Every write was appended to its file when its promise resolved. No compaction here:
    // it rewrites the file from this process's memory, which would drop lines another
    // process sharing the folder appended since (NeDB compacts on the next load anyway).
  }
}

type Document = Record<string, unknown> & { _id: string };

/** A lock older than this was left by a process that died while loading. */
const STALE_LOCK_MS = 60_000;
const LOCK_POLL_MS = 25;

/**
 * Runs `work` holding a lock shared by processes on one machine: a directory that only
 * one `mkdir` can create (atomic on local file systems). A lock left by a process that
 * died holding it is taken over once it is older than STALE_LOCK_MS.
 */
async function withFolderLock<T>(lock: string, work: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const since = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (since > STALE_LOCK_MS) await rmdir(lock).catch(() => undefined);
      else await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
  }
  try {
    return await work();
  } finally {
    await rmdir(lock).catch(() => undefined);
  }
}

/**
 * The package is CommonJS (`module.exports = Datastore`) while its types declare an ES
 * default export; under Node's ESM interop the default import is the class itself.
 */
const Datastore = ((nedb as unknown as { default?: unknown }).default ??
  nedb) as typeof nedb.default;
type Datastore<T> = nedb.default<T>;

/** The outbox field of a symbol or action document: audit records not yet in the log. */
const PENDING = 'pendingAudit';
/** A corporate action removed, whose audit record is still pending. */
const REMOVED = 'removed';

function withPending(document: Document, audit: AuditRecord | undefined): Document {
  return audit ? { ...document, [PENDING]: [audit] } : document;
}

/** Records keep their `id` as the document's `_id`, so a duplicate id is a unique violation. */
function toDocument(record: { readonly id: string }): Document {
  const { id, ...rest } = record;
  return { _id: id, ...rest };
}

/** The record a document holds, without the outbox's bookkeeping. */
function fromDocument<T>(document: Record<string, unknown>): T {
  const { _id, [PENDING]: _pending, [REMOVED]: _removed, ...rest } = document;
  return { id: _id, ...rest } as T;
}

/** NeDB's unique-index refusal (`errorType: 'uniqueViolated'`) as our CONFLICT. */
function uniqueToConflict(kind: string, record: { readonly id: string; readonly ticker?: string }) {
  return (error: unknown): never => {
    if ((error as { errorType?: string }).errorType === 'uniqueViolated') {
      const key = (error as { key?: unknown }).key;
      throw new AlphalakeError(
        'CONFLICT',
        `a ${kind} with ${key === record.ticker ? `ticker ${String(key)}` : `id ${record.id}`} already exists`,
        { id: record.id, ...(record.ticker ? { ticker: record.ticker } : {}) },
        { cause: error },
      );
    }
    throw error;
  };
}
