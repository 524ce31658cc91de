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
 * Where users and API keys live: a file under ALPHALAKE_HOME (FileUserStore) or MongoDB
 * (MongoUserStore). One contract suite (test/contracts/user-store.ts) runs against both.
 * Failures a caller can act on are AlphalakeErrors: `CONFLICT` for a name or key id
 * taken, `NOT_FOUND` for a user or key that is not there.
 */
export interface UserStore {
  /** Adds a user; `CONFLICT` when the name is taken. */
  addUser(user: User): Promise<void>;
  /** Changes a user's role (their keys follow); `NOT_FOUND` when there is no such user. */
  setRole(name: string, role: ApiRole): Promise<User>;
  getUser(name: string): Promise<User | undefined>;
  /** Every user, by name. */
  listUsers(): Promise<readonly User[]>;
  /** Stores a key; `NOT_FOUND` when its user does not exist, `CONFLICT` when its id is taken. */
  addKey(key: ApiKeyRecord): Promise<void>;
  getKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** The keys (revoked too) of one user or of all, oldest first (ties by id). */
  listKeys(user?: string): Promise<readonly ApiKeyRecord[]>;
  /**
   * Revokes a key at `at` (epoch µs) and returns it; revoking it again keeps the first
   * time. `NOT_FOUND` when there is no such key.
   */
  revokeKey(id: string, at: number): Promise<ApiKeyRecord>;
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
