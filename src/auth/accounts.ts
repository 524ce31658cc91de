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

/** One change to users or keys, as the audit log records it (issue 11: who, when, what, before, after). */
export interface AccountChange {
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

/**
 * Where account changes go: the audit log (the master-data lane's) implements this; until
 * the composition root wires it, changes go nowhere (`NO_AUDIT`). It is called after the
 * store accepted the change, so a change the store refused is never recorded.
 */
export interface AccountAudit {
  record(change: AccountChange): Promise<void>;
}

export const NO_AUDIT: AccountAudit = Object.freeze({ record: () => Promise.resolve() });

/**
 * Users and their API keys over a UserStore: validates input, mints keys (the store only
 * ever sees their digests), checks a presented key, and reports every change to the audit.
 */
export class Accounts {
  constructor(
    readonly store: UserStore,
    private readonly clock: Clock,
    private readonly audit: AccountAudit = NO_AUDIT,
  ) {}

  async addUser(name: string, role: string, actor: string): Promise<User> {
    const user: User = {
      name: checkName(name),
      role: parseRole(role),
      createdAt: this.clock.now(),
    };
    await this.store.addUser(user);
    await this.report('user.add', actor, user.name, null, { ...user });
    return user;
  }

  async setRole(name: string, role: string, actor: string): Promise<User> {
    const checked = checkName(name);
    const wanted = parseRole(role);
    const before = await this.store.getUser(checked);
    const after = await this.store.setRole(checked, wanted);
    await this.report('user.set-role', actor, checked, before ? { ...before } : null, { ...after });
    return after;
  }

  listUsers(): Promise<readonly User[]> {
    return this.store.listUsers();
  }

  listKeys(user?: string): Promise<readonly ApiKeyRecord[]> {
    return this.store.listKeys(user);
  }

  async createKey(user: string, label: string, actor: string): Promise<CreatedApiKey> {
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
    await this.report('key.create', actor, record.id, null, shown(record));
    return { key: minted.key, record };
  }

  async revokeKey(id: string, actor: string): Promise<ApiKeyRecord> {
    const before = await this.store.getKey(id);
    const after = await this.store.revokeKey(id, this.clock.now());
    // Revoking a revoked key changes nothing, so there is nothing to record.
    if (before?.revokedAt === undefined) {
      await this.report('key.revoke', actor, id, before ? shown(before) : null, shown(after));
    }
    return after;
  }

  private report(
    action: AccountChange['action'],
    actor: string,
    subject: string,
    before: AccountChange['before'],
    after: AccountChange['after'],
  ): Promise<void> {
    return this.audit.record({ action, actor, at: this.clock.now(), subject, before, after });
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

/** A key as the audit log shows it: everything but its digest. */
function shown(key: ApiKeyRecord): Record<string, unknown> {
  const { hash: _hash, ...rest } = key;
  return rest;
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
