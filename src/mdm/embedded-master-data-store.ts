import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import nedb from '@seald-io/nedb';
import { AlphalakeError } from '../domain/index.js';
import { withHomeLock } from '../platform/index.js';
import type {
  AuditQuery,
  AuditRecord,
  CorporateActionRecord,
  MasterDataStore,
  MasterDataStoreHealth,
  SymbolChangeRecord,
  SymbolRecord,
} from './master-data-store.js';
import { changesInOrder, staleVersion } from './master-data-store.js';

/**
 * The embedded master-data store: one @seald-io/nedb datastore per collection, each an
 * append-only file of JSON lines under `<ALPHALAKE_HOME>/mdm/` (NeDB appends every
 * insert, update and removal as a line, a later line for an `_id` replacing the earlier
 * ones, and compacts the file when it loads it, so a restart replays everything
 * written). NeDB runs its operations one at a time through an executor queue, which
 * makes `update({ _id, version }, …)` a compare-and-set within the process; a unique
 * index on `ticker` refuses a second symbol with a taken ticker.
 *
 * Several processes may share the folder (`serve` beside `alphalake mdm refresh`, split
 * roles on one ALPHALAKE_HOME): NeDB itself knows nothing of other processes, so every
 * operation here runs under a lock file of the folder (`mdm.lock`, holding the owner's
 * pid) and first reloads any collection whose file another process changed since this
 * one last touched it (its size, mtime or inode differ). A compare-and-set or a unique
 * index then sees every process's writes, and a reload (which compacts: rewrite and
 * rename) never races another process's append. A lock left by a process that died is
 * taken over (its pid is gone); one held past LOCK_WAIT_MS by a live process is
 * HOME_LOCKED, naming that pid (docs/mdm.md "Several processes").
 */
export class EmbeddedMasterDataStore implements MasterDataStore {
  readonly backend = 'embedded';

  /** Operations of this process, one at a time (the folder lock is for other processes). */
  private queue: Promise<unknown> = Promise.resolve();
  /** Each collection's file as this process last left it: another process changed it if it differs. */
  private readonly seen = new Map<Datastore<Document>, string>();

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
    return withFolderLock(path.join(dir, LOCK_FILE), async () => {
      const store = await EmbeddedMasterDataStore.load(dir);
      await store.remember();
      return store;
    });
  }

  /**
   * Runs `work` as the only operation on the folder, in this process and across
   * processes, on collections reloaded where another process wrote since.
   */
  private synced<T>(work: () => Promise<T>): Promise<T> {
    const dir = this.dir;
    if (dir === undefined) return work();
    const run = this.queue.then(() =>
      withFolderLock(path.join(dir, LOCK_FILE), async () => {
        await this.reloadChanged();
        try {
          return await work();
        } finally {
          await this.remember();
        }
      }),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  private collections(): [Datastore<Document>, string][] {
    const dir = this.dir as string;
    return [
      [this.symbolsDb, path.join(dir, 'symbols.db')],
      [this.changesDb, path.join(dir, 'symbol-changes.db')],
      [this.actionsDb, path.join(dir, 'corporate-actions.db')],
      [this.auditDb, path.join(dir, 'audit.db')],
    ];
  }

  private async reloadChanged(): Promise<void> {
    for (const [db, file] of this.collections()) {
      if ((await fileState(file)) !== this.seen.get(db)) await db.loadDatabaseAsync();
    }
  }

  private async remember(): Promise<void> {
    for (const [db, file] of this.collections()) this.seen.set(db, await fileState(file));
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
    return this.synced(async () => {
      return (await this.symbolsDb.findAsync({}).sort({ ticker: 1 })).map(
        fromDocument<SymbolRecord>,
      );
    });
  }

  async insertSymbol(symbol: SymbolRecord, audit?: AuditRecord): Promise<void> {
    return this.synced(async () => {
      await this.symbolsDb
        .insertAsync(withPending(toDocument(symbol), audit))
        .catch(uniqueToConflict('symbol', symbol));
    });
  }

  async replaceSymbol(
    next: SymbolRecord,
    expectedVersion: number,
    audit?: AuditRecord,
    change?: SymbolChangeRecord,
  ): Promise<void> {
    return this.synced(async () => {
      // One update of one document: the new fields, the pending audit record and a
      // rename's pending ticker change together.
      const { id: _id, ...fields } = next;
      const { numAffected } = await this.symbolsDb
        .updateAsync(
          { _id: next.id, version: expectedVersion },
          { $set: fields, ...outboxPush(audit, change) },
          {},
        )
        .catch(uniqueToConflict('symbol', next));
      if (numAffected === 1) return;
      const current = await this.symbolsDb.findOneAsync({ _id: next.id });
      throw staleVersion(next, expectedVersion, current ? Number(current.version) : undefined);
    });
  }

  async changes(): Promise<SymbolChangeRecord[]> {
    return this.synced(async () => {
      const pending = (
        await this.symbolsDb.findAsync({ [`${PENDING_CHANGES}.0`]: { $exists: true } })
      ).flatMap((document) => document[PENDING_CHANGES] as SymbolChangeRecord[]);
      const drained = (await this.changesDb.findAsync({})).map(fromDocument<SymbolChangeRecord>);
      return changesInOrder(pending, drained);
    });
  }

  async insertChange(change: SymbolChangeRecord): Promise<void> {
    return this.synced(async () => {
      await this.changesDb
        .insertAsync(toDocument(change))
        .catch(uniqueToConflict('symbol change', change));
    });
  }

  async corporateActions(): Promise<CorporateActionRecord[]> {
    return this.synced(async () => {
      return (
        await this.actionsDb.findAsync({ [REMOVED]: { $ne: true } }).sort({ exDate: 1, _id: 1 })
      ).map(fromDocument<CorporateActionRecord>);
    });
  }

  async insertCorporateAction(action: CorporateActionRecord, audit?: AuditRecord): Promise<void> {
    return this.synced(async () => {
      await this.actionsDb
        .insertAsync(withPending(toDocument(action), audit))
        .catch(uniqueToConflict('corporate action', action));
    });
  }

  async deleteCorporateAction(
    id: string,
    audit?: AuditRecord,
  ): Promise<CorporateActionRecord | undefined> {
    return this.synced(async () => {
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
    });
  }

  async appendAudit(record: AuditRecord): Promise<void> {
    return this.synced(async () => {
      await this.auditDb.insertAsync(toDocument(record)).catch(uniqueToConflict('audit', record));
    });
  }

  async drainAudit(): Promise<number> {
    return this.synced(async () => {
      // A rename's ticker changes: into the change collection, then off the symbol.
      for (const document of await this.symbolsDb.findAsync({
        [`${PENDING_CHANGES}.0`]: { $exists: true },
      })) {
        for (const change of document[PENDING_CHANGES] as SymbolChangeRecord[]) {
          await this.changesDb.insertAsync(toDocument(change)).catch((error: unknown) => {
            // Already moved (a drain that died before its pull, or another process's).
            if ((error as { errorType?: string }).errorType !== 'uniqueViolated') throw error;
          });
          await this.symbolsDb.updateAsync(
            { _id: document._id },
            { $pull: { [PENDING_CHANGES]: { id: change.id } } },
            {},
          );
        }
      }
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
            await db.removeAsync(
              { _id: document._id, [REMOVED]: true, [PENDING]: { $size: 0 } },
              {},
            );
          }
        }
      }
      return moved;
    });
  }

  async audit(query: AuditQuery): Promise<AuditRecord[]> {
    return this.synced(async () => {
      const filter: Record<string, unknown> = {};
      if (query.entity !== undefined) filter.entity = query.entity;
      if (query.actor !== undefined) filter.actor = query.actor;
      if (query.from !== undefined) filter.at = { $gte: query.from };
      let cursor = this.auditDb.findAsync(filter).sort({ at: 1, _id: 1 });
      if (query.limit !== undefined) cursor = cursor.limit(query.limit);
      return (await cursor).map(fromDocument<AuditRecord>);
    });
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

/** The folder's lock file: it holds the pid of the process operating on the store. */
const LOCK_FILE = 'mdm.lock';
/** How long an operation waits for another process's lock before HOME_LOCKED. */
const LOCK_WAIT_MS = 30_000;

/** A file's identity and extent: it changes with every append and every rewrite. */
async function fileState(file: string): Promise<string> {
  return stat(file).then(
    (s) => `${s.ino}:${s.size}:${s.mtimeMs}`,
    () => 'absent',
  );
}

/**
 * Runs `work` holding the folder's lock (src/platform/home-lock.ts: created whole with
 * this process's pid, a dead holder's taken over), waiting up to LOCK_WAIT_MS for a live
 * one, then HOME_LOCKED naming its pid.
 */
function withFolderLock<T>(lock: string, work: () => Promise<T>): Promise<T> {
  return withHomeLock(
    lock,
    { guards: `the master data in ${path.dirname(lock)}`, waitMs: LOCK_WAIT_MS },
    work,
  );
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
/** The outbox field of a symbol document: a rename's ticker changes not yet in their collection. */
const PENDING_CHANGES = 'pendingChanges';

/** The `$push` of a symbol's outbox fields, for those given. */
function outboxPush(
  audit: AuditRecord | undefined,
  change: SymbolChangeRecord | undefined,
): { $push?: Record<string, unknown> } {
  const push: Record<string, unknown> = {
    ...(audit ? { [PENDING]: audit } : {}),
    ...(change ? { [PENDING_CHANGES]: change } : {}),
  };
  return Object.keys(push).length > 0 ? { $push: push } : {};
}

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
  const {
    _id,
    [PENDING]: _pending,
    [REMOVED]: _removed,
    [PENDING_CHANGES]: _changes,
    ...rest
  } = document;
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
