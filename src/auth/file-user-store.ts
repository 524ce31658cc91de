import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { AlphalakeError } from '../domain/index.js';
import { takeHomeLock } from '../platform/index.js';
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

interface Document {
  readonly format: 1;
  readonly users: User[];
  readonly keys: ApiKeyRecord[];
  /** The audit outbox: records of changes written in the same document, not yet in the log. */
  pendingAudit?: AccountChange[];
}

/** Adds a change's audit record to the document it is written with (the outbox). */
function pend(doc: Document, audit: AccountChange | undefined): void {
  if (audit) doc.pendingAudit = [...(doc.pendingAudit ?? []), audit];
}

/** How long a writer waits for another's lock before HOME_LOCKED. */
const LOCK_WAIT_MS = 10_000;

/**
 * The embedded user store: one JSON document (`auth/users.json` under ALPHALAKE_HOME).
 *
 * Why not an embedded database such as @seald-io/nedb: nedb holds the data set in the
 * memory of one process and appends to (and compacts) its file on its own schedule, so
 * `alphalake users add` run beside a serving process would go unseen by the server until
 * it restarts, and could be lost at its next compaction. Here every read reads the file
 * (a few kilobytes: one user per person, a few keys each) and every change is a
 * read-modify-write under the file's lock (src/platform/home-lock.ts: created whole with
 * the writer's pid, a dead writer's taken over at once), written to a temporary file and renamed
 * over the old one (rename is atomic on POSIX), so the CLI and the server share it safely
 * and a crash leaves the old or the new document, never half of one.
 */
export class FileUserStore implements UserStore {
  private readonly lockPath: string;

  constructor(private readonly file: string) {
    this.lockPath = `${file}.lock`;
  }

  /** The store under a home folder (ALPHALAKE_HOME). */
  static inHome(home: string): FileUserStore {
    return new FileUserStore(path.join(home, 'auth', 'users.json'));
  }

  async addUser(user: User, audit?: AccountChange): Promise<void> {
    await this.change((doc) => {
      if (doc.users.some((u) => u.name === user.name)) throw userExists(user.name);
      doc.users.push({ name: user.name, role: user.role, createdAt: user.createdAt });
      pend(doc, audit);
    });
  }

  async setRole(name: string, role: ApiRole, audit?: AuditOf<User>): Promise<User> {
    return this.change((doc) => {
      const index = doc.users.findIndex((u) => u.name === name);
      const found = doc.users[index];
      if (found === undefined) throw noSuchUser(name);
      const changed = { ...found, role };
      doc.users[index] = changed;
      pend(doc, audit?.(found, changed));
      return changed;
    });
  }

  async getUser(name: string): Promise<User | undefined> {
    return (await this.read()).users.find((u) => u.name === name);
  }

  async listUsers(): Promise<readonly User[]> {
    return [...(await this.read()).users].sort(byName);
  }

  async addKey(key: ApiKeyRecord, audit?: AccountChange): Promise<void> {
    await this.change((doc) => {
      if (!doc.users.some((u) => u.name === key.user)) throw noSuchUser(key.user);
      if (doc.keys.some((k) => k.id === key.id)) throw keyIdTaken(key.id);
      doc.keys.push({ ...key });
      pend(doc, audit);
    });
  }

  async getKey(id: string): Promise<ApiKeyRecord | undefined> {
    return (await this.read()).keys.find((k) => k.id === id);
  }

  async listKeys(user?: string): Promise<readonly ApiKeyRecord[]> {
    const keys = (await this.read()).keys;
    return keys.filter((k) => user === undefined || k.user === user).sort(byCreation);
  }

  async revokeKey(id: string, at: number, audit?: AuditOf<ApiKeyRecord>): Promise<ApiKeyRecord> {
    return this.change((doc) => {
      const index = doc.keys.findIndex((k) => k.id === id);
      const found = doc.keys[index];
      if (found === undefined) throw noSuchKey(id);
      if (found.revokedAt !== undefined) return found;
      const revoked = { ...found, revokedAt: at };
      doc.keys[index] = revoked;
      pend(doc, audit?.(found, revoked));
      return revoked;
    });
  }

  async pendingAudit(): Promise<readonly AccountChange[]> {
    return (await this.read()).pendingAudit ?? [];
  }

  async settleAudit(id: string): Promise<void> {
    if (!(await this.pendingAudit()).some((c) => c.id === id)) return;
    await this.change((doc) => {
      const left = (doc.pendingAudit ?? []).filter((c) => c.id !== id);
      if (left.length > 0) doc.pendingAudit = left;
      else delete doc.pendingAudit;
    });
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }

  private async read(): Promise<Document> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return { format: 1, users: [], keys: [] };
      }
      throw error;
    }
    const doc = JSON.parse(text) as Partial<Document>;
    if (doc.format !== 1 || !Array.isArray(doc.users) || !Array.isArray(doc.keys)) {
      throw new AlphalakeError(
        'INTERNAL',
        `${this.file} is not a user store this version of alphalake reads`,
      );
    }
    return doc as Document;
  }

  /** Runs `edit` on the current document under the lock and writes the result. */
  private async change<T>(edit: (doc: Document) => T): Promise<T> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const release = await this.lock();
    try {
      const doc = await this.read();
      const result = edit(doc);
      const temporary = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      const handle = await open(temporary, 'w', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(doc, null, 2)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, this.file);
      return result;
    } finally {
      await release();
    }
  }

  private async lock(): Promise<() => Promise<void>> {
    const lock = await takeHomeLock(this.lockPath, {
      guards: `the user store ${this.file}`,
      waitMs: LOCK_WAIT_MS,
      pollMs: 10,
    });
    return () => lock.release();
  }
}
