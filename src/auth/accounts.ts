import { AlphalakeError, type Clock } from '../domain/index.js';
import { apiKeyId, apiKeyMatches, mintApiKey } from './api-keys.js';
import type { Principal } from './principal.js';
import { parseRole } from './roles.js';
import { randomUUID } from 'node:crypto';
import type { AccountChange, ApiKeyRecord, User, UserStore } from './user-store.js';

export type { AccountChange } from './user-store.js';

/** A user's name: what a JWT's `sub` and the audit log carry. */
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const LABEL_MAX = 200;

/** A key just created: `key` is shown to its owner this once and never again. */
export interface CreatedApiKey {
  readonly key: string;
  readonly record: ApiKeyRecord;
}

/**
 * Where account changes go: the audit log (the master-data lane's) implements this.
 * `record` must be idempotent on the change's id (a record recorded twice is there once):
 * a change is written to the user store with its record pending (the outbox), then
 * recorded here, then settled; a crash between the steps leaves it pending, and
 * `Accounts.drainAudit` records it again. With `NO_AUDIT` records stay pending until a
 * process with an audit log drains them.
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
    const change = this.change('user.add', actor, user.name, null, { ...user });
    await this.store.addUser(user, change);
    await this.settle(change);
    return user;
  }

  async setRole(name: string, role: string, actor: string): Promise<User> {
    const checked = checkName(name);
    const wanted = parseRole(role);
    let change: AccountChange | undefined;
    const after = await this.store.setRole(checked, wanted, (before, next) => {
      change = this.change('user.set-role', actor, checked, { ...before }, { ...next });
      return change;
    });
    await this.settle(change);
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
    const change = this.change('key.create', actor, record.id, null, shown(record));
    await this.store.addKey(record, change);
    await this.settle(change);
    return { key: minted.key, record };
  }

  async revokeKey(id: string, actor: string): Promise<ApiKeyRecord> {
    // Revoking a revoked key changes nothing, so the store asks for no record then.
    let change: AccountChange | undefined;
    const after = await this.store.revokeKey(id, this.clock.now(), (before, revoked) => {
      change = this.change('key.revoke', actor, id, shown(before), shown(revoked));
      return change;
    });
    await this.settle(change);
    return after;
  }

  /**
   * Records what the user store's outbox still holds (a process died between a change
   * and its record, or made it without an audit log, like the CLI without one): how many.
   */
  async drainAudit(): Promise<number> {
    if (this.audit === NO_AUDIT) return 0;
    const pending = await this.store.pendingAudit();
    for (const change of pending) await this.settle(change);
    return pending.length;
  }

  /** A change's audit record, with an id unique in the audit log and ordered by time. */
  private change(
    action: AccountChange['action'],
    actor: string,
    subject: string,
    before: AccountChange['before'],
    after: AccountChange['after'],
  ): AccountChange {
    const at = this.clock.now();
    const id = `${String(at).padStart(17, '0')}-account-${randomUUID()}`;
    return { id, action, actor, at, subject, before, after };
  }

  /** Moves a pending record into the audit log, then off the outbox (each step idempotent). */
  private async settle(change: AccountChange | undefined): Promise<void> {
    if (change === undefined || this.audit === NO_AUDIT) return;
    await this.audit.record(change);
    await this.store.settleAudit(change.id);
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
