import {
  MongoClient,
  MongoServerError,
  type Collection,
  type Db,
  type UpdateFilter,
} from 'mongodb';
import { AlphalakeError, within } from '../domain/index.js';
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

/** How long `health` waits for MongoDB's answer (below `/readyz`'s own 3 s limit). */
const HEALTH_TIMEOUT_MS = 2_000;

/** MongoDB's duplicate-key error (a unique index refused a write). */
const DUPLICATE_KEY = 11000;

type Document = Record<string, unknown> & { _id: string };

export interface MongoMasterDataStoreOptions {
  /** `mongodb://…`; the database is the URI's path, else `database`. */
  readonly uri: string;
  /** @default 'alphalake' (when the URI names none) */
  readonly database?: string;
  /** Prefix of the collections' names. @default 'mdm_' */
  readonly collectionPrefix?: string;
}

/**
 * The master-data store on MongoDB (the `mongodb` driver). Every record is one document
 * whose `_id` is the record's id; a unique index on `symbols.ticker` refuses a taken
 * ticker, and an update filtered on `{ _id, version }` (the new fields and the pending audit record together) is the compare-and-set (MongoDB
 * applies a single-document write atomically: "Atomicity and Transactions" in the
 * MongoDB manual), so of two edits of the same version exactly one matches.
 */
export class MongoMasterDataStore implements MasterDataStore {
  readonly backend = 'mongodb';

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
    private readonly symbolsCollection: Collection<Document>,
    private readonly changesCollection: Collection<Document>,
    private readonly actionsCollection: Collection<Document>,
    private readonly auditCollection: Collection<Document>,
  ) {}

  static async open(options: MongoMasterDataStoreOptions): Promise<MongoMasterDataStore> {
    const client = new MongoClient(options.uri);
    await client.connect();
    try {
      const db: Db = client.db(
        options.database ?? (hasDatabase(options.uri) ? undefined : 'alphalake'),
      );
      const prefix = options.collectionPrefix ?? 'mdm_';
      const collection = (name: string) => db.collection<Document>(`${prefix}${name}`);
      const store = new MongoMasterDataStore(
        client,
        db,
        collection('symbols'),
        collection('symbol_changes'),
        collection('corporate_actions'),
        collection('audit'),
      );
      await store.symbolsCollection.createIndex({ ticker: 1 }, { unique: true });
      await store.auditCollection.createIndex({ at: 1, _id: 1 });
      return store;
    } catch (error) {
      await client.close();
      throw error;
    }
  }

  async symbols(): Promise<SymbolRecord[]> {
    const documents = await this.symbolsCollection.find({}).sort({ ticker: 1 }).toArray();
    return documents.map(fromDocument<SymbolRecord>);
  }

  async insertSymbol(symbol: SymbolRecord, audit?: AuditRecord): Promise<void> {
    await this.symbolsCollection
      .insertOne(withPending(toDocument(symbol), audit))
      .catch(duplicateToConflict('symbol', symbol));
  }

  async replaceSymbol(
    next: SymbolRecord,
    expectedVersion: number,
    audit?: AuditRecord,
    change?: SymbolChangeRecord,
  ): Promise<void> {
    // One update of one document: the new fields, the pending audit record and a rename's
    // pending ticker change together.
    const { id: _id, ...fields } = next;
    const push: Record<string, unknown> = {
      ...(audit ? { [PENDING]: audit } : {}),
      ...(change ? { [PENDING_CHANGES]: change } : {}),
    };
    const result = await this.symbolsCollection
      .updateOne(
        { _id, version: expectedVersion },
        outboxUpdate({ $set: fields, ...(Object.keys(push).length > 0 ? { $push: push } : {}) }),
      )
      .catch(duplicateToConflict('symbol', next));
    if (result.matchedCount === 1) return;
    const current = await this.symbolsCollection.findOne({ _id });
    throw staleVersion(next, expectedVersion, current ? Number(current.version) : undefined);
  }

  async changes(): Promise<SymbolChangeRecord[]> {
    // Pending first: a drain between the reads moves a change into the collection before
    // it pulls it off the symbol, so the second read finds what the first missed.
    const pending = (
      await this.symbolsCollection.find({ [`${PENDING_CHANGES}.0`]: { $exists: true } }).toArray()
    ).flatMap((document) => document[PENDING_CHANGES] as SymbolChangeRecord[]);
    const drained = (await this.changesCollection.find({}).toArray()).map(
      fromDocument<SymbolChangeRecord>,
    );
    return changesInOrder(pending, drained);
  }

  async insertChange(change: SymbolChangeRecord): Promise<void> {
    await this.changesCollection
      .insertOne(toDocument(change))
      .catch(duplicateToConflict('symbol change', change));
  }

  async corporateActions(): Promise<CorporateActionRecord[]> {
    const documents = await this.actionsCollection
      .find({ [REMOVED]: { $ne: true } })
      .sort({ exDate: 1, _id: 1 })
      .toArray();
    return documents.map(fromDocument<CorporateActionRecord>);
  }

  async insertCorporateAction(action: CorporateActionRecord, audit?: AuditRecord): Promise<void> {
    await this.actionsCollection
      .insertOne(withPending(toDocument(action), audit))
      .catch(duplicateToConflict('corporate action', action));
  }

  async deleteCorporateAction(
    id: string,
    audit?: AuditRecord,
  ): Promise<CorporateActionRecord | undefined> {
    const filter = { _id: id, [REMOVED]: { $ne: true } };
    // Marked removed with its audit record in one write; the drain deletes it after.
    const removed = audit
      ? await this.actionsCollection.findOneAndUpdate(
          filter,
          outboxUpdate({ $set: { [REMOVED]: true }, $push: { [PENDING]: audit } }),
        )
      : await this.actionsCollection.findOneAndDelete(filter);
    return removed ? fromDocument<CorporateActionRecord>(removed) : undefined;
  }

  async appendAudit(record: AuditRecord): Promise<void> {
    await this.auditCollection
      .insertOne(toDocument(record))
      .catch(duplicateToConflict('audit', record));
  }

  async drainAudit(): Promise<number> {
    // A rename's ticker changes: into the change collection, then off the symbol.
    const renamed = await this.symbolsCollection
      .find({ [`${PENDING_CHANGES}.0`]: { $exists: true } })
      .toArray();
    for (const document of renamed) {
      for (const change of document[PENDING_CHANGES] as SymbolChangeRecord[]) {
        await this.changesCollection.insertOne(toDocument(change)).catch((error: unknown) => {
          // Already moved (a drain that died before its pull, or another process's).
          if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error;
        });
        await this.symbolsCollection.updateOne(
          { _id: document._id },
          outboxUpdate({ $pull: { [PENDING_CHANGES]: { id: change.id } } }),
        );
      }
    }
    let moved = 0;
    for (const collection of [this.symbolsCollection, this.actionsCollection]) {
      const pending = await collection.find({ [`${PENDING}.0`]: { $exists: true } }).toArray();
      for (const document of pending) {
        for (const record of document[PENDING] as AuditRecord[]) {
          // The same id twice (a drain that died before its pull, or another process's
          // drain) is refused by the `_id` index: the record is in the log once.
          const inserted = await this.auditCollection.insertOne(toDocument(record)).then(
            () => true,
            (error: unknown) => {
              if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return false;
              throw error;
            },
          );
          if (inserted) moved++;
          await collection.updateOne(
            { _id: document._id },
            outboxUpdate({ $pull: { [PENDING]: { id: record.id } } }),
          );
        }
        if (document[REMOVED] === true) {
          await collection.deleteOne({
            _id: document._id,
            [REMOVED]: true,
            [PENDING]: { $size: 0 },
          });
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
    let cursor = this.auditCollection.find(filter).sort({ at: 1, _id: 1 });
    if (query.limit !== undefined) cursor = cursor.limit(query.limit);
    return (await cursor.toArray()).map(fromDocument<AuditRecord>);
  }

  async health(signal?: AbortSignal): Promise<MasterDataStoreHealth> {
    try {
      await within(this.db.command({ ping: 1 }), HEALTH_TIMEOUT_MS, signal);
      return { ready: true, detail: `MongoDB database ${this.db.databaseName}` };
    } catch (error) {
      return {
        ready: false,
        detail: `MongoDB database ${this.db.databaseName} does not answer: ${(error as Error).message}`,
      };
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

function hasDatabase(uri: string): boolean {
  const afterHosts = uri.replace(/^mongodb(\+srv)?:\/\/[^/]*/, '');
  const name = afterHosts.replace(/^\//, '').split('?')[0] ?? '';
  return name !== '';
}

/** The outbox field of a symbol or action document: audit records not yet in the log. */
const PENDING = 'pendingAudit';
/** A corporate action removed, whose audit record is still pending. */
const REMOVED = 'removed';
/** The outbox field of a symbol document: a rename's ticker changes not yet in their collection. */
const PENDING_CHANGES = 'pendingChanges';

/**
 * An update of the outbox fields. The driver types `$push`/`$pull` by a schema's array
 * fields; these documents are untyped records (`Record<string, unknown>`), so the update
 * is stated plainly and typed here.
 */
function outboxUpdate(update: Record<string, unknown>): UpdateFilter<Document> {
  return update as UpdateFilter<Document>;
}

function withPending(document: Document, audit: AuditRecord | undefined): Document {
  return audit ? { ...document, [PENDING]: [audit] } : document;
}

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

function duplicateToConflict(
  kind: string,
  record: { readonly id: string; readonly ticker?: string },
) {
  return (error: unknown): never => {
    if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) {
      const onTicker = /ticker/.test(error.message);
      throw new AlphalakeError(
        'CONFLICT',
        `a ${kind} with ${onTicker && record.ticker ? `ticker ${record.ticker}` : `id ${record.id}`} already exists`,
        { id: record.id, ...(record.ticker ? { ticker: record.ticker } : {}) },
        { cause: error },
      );
    }
    throw error;
  };
}
