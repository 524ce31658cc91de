import { AlphalakeError } from '../domain/index.js';
import type { ApiRole } from './roles.js';

/** A user of the API: a name and the role that decides what they may do. */
export interface User {
  readonly name: string;
  readonly role: ApiRole;
  /** Epoch µs. */
  readonly createdAt: number;
}

/** An API key as stored: its digest, never the key (api-keys.ts). */
export interface ApiKeyRecord {
  /** Public id, the middle part of `alk_<id>_<secret>`. */
  readonly id: string;
  /** The user the key acts as (with that user's current role). */
  readonly user: string;
  /** What the key is for, as its owner named it ('' when unnamed). */
  readonly label: string;
  /** Hex SHA-256 of the key. */
  readonly hash: string;
  /** Epoch µs. */
  readonly createdAt: number;
  /** Epoch µs when revoked; a revoked key never authenticates again. */
  readonly revokedAt?: number;
}

/**
 * One change to users or keys, as the audit log records it (issue 11: who, when, what,
 * before, after), under an id unique in the audit log.
 */
export interface AccountChange {
  readonly id: string;
  readonly action: 'user.add' | 'user.set-role' | 'key.create' | 'key.revoke';
  /** Who made it: `ApiContext.actor` over GraphQL, `cli:<os user>` from the CLI. */
  readonly actor: string;
  /** Epoch µs. */
  readonly at: number;
  /** The user's name or the key's id. */
  readonly subject: string;
  /** The record before and after; keys without their digest. Null where there is none. */
  readonly before: Readonly<Record<string, unknown>> | null;
  readonly after: Readonly<Record<string, unknown>> | null;
}

/** The audit record of a change from the record before and after it; undefined: nothing changed. */
export type AuditOf<T> = (before: T, after: T) => AccountChange | undefined;

/**
 * Where users and API keys live: a file under ALPHALAKE_HOME (FileUserStore) or MongoDB
 * (MongoUserStore). One contract suite (test/contracts/user-store.ts) runs against both.
 * Failures a caller can act on are AlphalakeErrors: `CONFLICT` for a name or key id
 * taken, `NOT_FOUND` for a user or key that is not there.
 */
export interface UserStore {
  /**
   * Adds a user; `CONFLICT` when the name is taken. With `audit`, the change's audit
   * record is written in the same write, pending (the outbox: `pendingAudit`).
   */
  addUser(user: User, audit?: AccountChange): Promise<void>;
  /** Changes a user's role (their keys follow); `NOT_FOUND` when there is no such user. */
  setRole(name: string, role: ApiRole, audit?: AuditOf<User>): Promise<User>;
  getUser(name: string): Promise<User | undefined>;
  /** Every user, by name. */
  listUsers(): Promise<readonly User[]>;
  /** Stores a key; `NOT_FOUND` when its user does not exist, `CONFLICT` when its id is taken. */
  addKey(key: ApiKeyRecord, audit?: AccountChange): Promise<void>;
  getKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** The keys (revoked too) of one user or of all, oldest first (ties by id). */
  listKeys(user?: string): Promise<readonly ApiKeyRecord[]>;
  /**
   * Revokes a key at `at` (epoch µs) and returns it; revoking it again keeps the first
   * time. `NOT_FOUND` when there is no such key.
   */
  revokeKey(id: string, at: number, audit?: AuditOf<ApiKeyRecord>): Promise<ApiKeyRecord>;
  /**
   * The audit outbox: records written with their change and not yet settled into the
   * audit log (a process died between the two, or no audit log was at hand), oldest first.
   */
  pendingAudit(): Promise<readonly AccountChange[]>;
  /** Takes a record off the outbox once the audit log holds it (idempotent). */
  settleAudit(id: string): Promise<void>;
  close(): Promise<void>;
}

export function userExists(name: string): AlphalakeError {
  return new AlphalakeError('CONFLICT', `user ${JSON.stringify(name)} already exists`, {
    field: 'name',
  });
}

export function noSuchUser(name: string): AlphalakeError {
  return new AlphalakeError('NOT_FOUND', `no user named ${JSON.stringify(name)}`, {
    field: 'user',
  });
}

export function keyIdTaken(id: string): AlphalakeError {
  return new AlphalakeError('CONFLICT', `an API key with id ${id} already exists`, { field: 'id' });
}

export function noSuchKey(id: string): AlphalakeError {
  return new AlphalakeError('NOT_FOUND', `no API key with id ${JSON.stringify(id)}`, {
    field: 'id',
  });
}

/** Oldest first, ties by id: the order `listKeys` promises. */
export function byCreation(a: ApiKeyRecord, b: ApiKeyRecord): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function byName(a: User, b: User): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
