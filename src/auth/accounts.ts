import { AlphalakeError, type Clock } from '../domain/index.js';
import { apiKeyId, apiKeyMatches, mintApiKey } from './api-keys.js';
import type { Principal } from './principal.js';
import { parseRole } from './roles.js';
import type { ApiKeyRecord, User, UserStore } from './user-store.js';

/** A user's name: what a JWT's `sub` and the audit log carry. */
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const LABEL_MAX = 200;

/** A key just created: `key` is shown to its owner this once and never again. */
export interface CreatedApiKey {
  readonly key: string;
  readonly record: ApiKeyRecord;
}

/**
 * Users and their API keys over a UserStore: validates input, mints keys (the store only
 * ever sees their digests) and checks a presented key.
 */
export class Accounts {
  constructor(
    readonly store: UserStore,
    private readonly clock: Clock,
  ) {}

  async addUser(name: string, role: string): Promise<User> {
    const user: User = {
      name: checkName(name),
      role: parseRole(role),
      createdAt: this.clock.now(),
    };
    await this.store.addUser(user);
    return user;
  }

  setRole(name: string, role: string): Promise<User> {
    return this.store.setRole(checkName(name), parseRole(role));
  }

  listUsers(): Promise<readonly User[]> {
    return this.store.listUsers();
  }

  listKeys(user?: string): Promise<readonly ApiKeyRecord[]> {
    return this.store.listKeys(user);
  }

  async createKey(user: string, label = ''): Promise<CreatedApiKey> {
    if (label.length > LABEL_MAX) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `a key's label is at most ${LABEL_MAX} characters`,
        {
          field: 'label',
        },
      );
    }
    const minted = mintApiKey();
    const record: ApiKeyRecord = {
      id: minted.id,
      user: checkName(user),
      label,
      hash: minted.hash,
      createdAt: this.clock.now(),
    };
    await this.store.addKey(record);
    return { key: minted.key, record };
  }

  revokeKey(id: string): Promise<ApiKeyRecord> {
    return this.store.revokeKey(id, this.clock.now());
  }

  /**
   * The principal a presented API key stands for, with its owner's current role; throws
   * UNAUTHENTICATED for a key that is malformed, unknown, revoked or whose user is gone,
   * with one message for all of them, so a caller learns nothing about which keys exist.
   */
  async verifyKey(key: string): Promise<Principal> {
    const id = apiKeyId(key);
    const record = id === undefined ? undefined : await this.store.getKey(id);
    const valid =
      record !== undefined && record.revokedAt === undefined && apiKeyMatches(key, record.hash);
    const user = valid ? await this.store.getUser(record.user) : undefined;
    if (record === undefined || user === undefined) {
      throw new AlphalakeError('UNAUTHENTICATED', 'the API key is not valid (unknown or revoked)');
    }
    return { user: user.name, role: user.role, via: 'api-key', keyId: record.id };
  }
}

function checkName(name: string): string {
  if (!USER_NAME.test(name)) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `user name ${JSON.stringify(name)} is invalid: 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit`,
      { field: 'name' },
    );
  }
  return name;
}
