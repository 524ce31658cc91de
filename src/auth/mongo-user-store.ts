import { MongoClient, MongoServerError, type Collection, type Db } from 'mongodb';
import type { ApiRole } from './roles.js';
import {
  byCreation,
  byName,
  keyIdTaken,
  noSuchKey,
  noSuchUser,
  userExists,
  type AccountChange,
  type ApiKeyRecord,
  type AuditOf,
  type User,
  type UserStore,
} from './user-store.js';

interface UserDoc {
  _id: string;
  role: ApiRole;
  createdAt: number;
  /** The audit outbox: records of changes written with this document, not yet in the log. */
  pendingAudit?: AccountChange[];
}

interface KeyDoc {
  _id: string;
  user: string;
  label: string;
  hash: string;
  createdAt: number;
  revokedAt: number | null;
  pendingAudit?: AccountChange[];
}

/** MongoDB's duplicate-key error (a unique index refused an insert). */
const DUPLICATE_KEY = 11000;

/**
 * Users and API keys in MongoDB: `users` keyed by name (`_id`, unique by definition) and
 * `api_keys` keyed by the key's public id, with an index on the owner. The database is
 * the one named in MONGODB_URI (`alphalake` when it names none).
 */
export class MongoUserStore implements UserStore {
  private constructor(
    private readonly client: MongoClient | undefined,
    private readonly users: Collection<UserDoc>,
    private readonly keys: Collection<KeyDoc>,
  ) {}

  /** Connects and creates the indexes (idempotent). */
  static async connect(uri: string, options: { database?: string } = {}): Promise<MongoUserStore> {
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
    try {
      const name = options.database ?? (databaseNamed(uri) || 'alphalake');
      return await MongoUserStore.open(client.db(name), client);
    } catch (error) {
      await client.close();
      throw error;
    }
  }

  /** On a database whose client someone else owns (it is closed by them, not by `close`). */
  static async open(db: Db, owner?: MongoClient): Promise<MongoUserStore> {
    const keys = db.collection<KeyDoc>('api_keys');
    await keys.createIndex({ user: 1, createdAt: 1 });
    return new MongoUserStore(owner, db.collection<UserDoc>('users'), keys);
  }

  async addUser(user: User, audit?: AccountChange): Promise<void> {
    try {
      await this.users.insertOne({
        _id: user.name,
        role: user.role,
        createdAt: user.createdAt,
        ...(audit ? { pendingAudit: [audit] } : {}),
      });
    } catch (error) {
      if (isDuplicate(error)) throw userExists(user.name);
      throw error;
    }
  }

  async setRole(name: string, role: ApiRole, audit?: AuditOf<User>): Promise<User> {
    // Compare-and-set on the role read, so the pending record's `before` is what was replaced.
    for (;;) {
      const before = await this.getUser(name);
      if (before === undefined) throw noSuchUser(name);
      const after = { ...before, role };
      const record = audit?.(before, after);
      const result = await this.users.updateOne(
        { _id: name, role: before.role },
        { $set: { role }, ...(record ? { $push: { pendingAudit: record } } : {}) },
      );
      if (result.matchedCount === 1) return after;
    }
  }

  async getUser(name: string): Promise<User | undefined> {
    const doc = await this.users.findOne({ _id: name });
    return doc === null ? undefined : userOf(doc);
  }

  async listUsers(): Promise<readonly User[]> {
    const docs = await this.users.find({}).toArray();
    return docs.map(userOf).sort(byName);
  }

  async addKey(key: ApiKeyRecord, audit?: AccountChange): Promise<void> {
    if ((await this.users.countDocuments({ _id: key.user }, { limit: 1 })) === 0) {
      throw noSuchUser(key.user);
    }
    try {
      await this.keys.insertOne({
        _id: key.id,
        user: key.user,
        label: key.label,
        hash: key.hash,
        createdAt: key.createdAt,
        revokedAt: key.revokedAt ?? null,
        ...(audit ? { pendingAudit: [audit] } : {}),
      });
    } catch (error) {
      if (isDuplicate(error)) throw keyIdTaken(key.id);
      throw error;
    }
  }

  async getKey(id: string): Promise<ApiKeyRecord | undefined> {
    const doc = await this.keys.findOne({ _id: id });
    return doc === null ? undefined : keyOf(doc);
  }

  async listKeys(user?: string): Promise<readonly ApiKeyRecord[]> {
    const docs = await this.keys.find(user === undefined ? {} : { user }).toArray();
    return docs.map(keyOf).sort(byCreation);
  }

  async revokeKey(id: string, at: number, audit?: AuditOf<ApiKeyRecord>): Promise<ApiKeyRecord> {
    const before = await this.getKey(id);
    if (before === undefined) throw noSuchKey(id);
    // A revoked key keeps its first revocation time, and records nothing again.
    if (before.revokedAt !== undefined) return before;
    const after = { ...before, revokedAt: at };
    const record = audit?.(before, after);
    // Only a key not yet revoked is changed: of two revocations one writes (and records).
    const result = await this.keys.updateOne(
      { _id: id, revokedAt: null },
      { $set: { revokedAt: at }, ...(record ? { $push: { pendingAudit: record } } : {}) },
    );
    if (result.matchedCount === 1) return after;
    const key = await this.getKey(id);
    if (key === undefined) throw noSuchKey(id);
    return key;
  }

  async pendingAudit(): Promise<readonly AccountChange[]> {
    const filter = { 'pendingAudit.0': { $exists: true } };
    const [users, keys] = await Promise.all([
      this.users.find(filter).toArray(),
      this.keys.find(filter).toArray(),
    ]);
    return [...users, ...keys]
      .flatMap((doc) => doc.pendingAudit ?? [])
      .sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async settleAudit(id: string): Promise<void> {
    const filter = { 'pendingAudit.id': id };
    const pull = { $pull: { pendingAudit: { id } } };
    await this.users.updateMany(filter, pull);
    await this.keys.updateMany(filter, pull);
  }

  async close(): Promise<void> {
    await this.client?.close();
  }
}

function userOf(doc: UserDoc): User {
  return { name: doc._id, role: doc.role, createdAt: doc.createdAt };
}

function keyOf(doc: KeyDoc): ApiKeyRecord {
  return {
    id: doc._id,
    user: doc.user,
    label: doc.label,
    hash: doc.hash,
    createdAt: doc.createdAt,
    ...(doc.revokedAt === null ? {} : { revokedAt: doc.revokedAt }),
  };
}

function isDuplicate(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/** The database in a connection string's path (`mongodb://host/db?…`), or ''. */
function databaseNamed(uri: string): string {
  const match = /^mongodb(?:\+srv)?:\/\/[^/?#]+\/([^?#]*)/.exec(uri);
  return decodeURIComponent(match?.[1] ?? '');
}
