import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Accounts, FileUserStore, type AccountChange } from '../../../src/auth/index.js';
import { isAlphalakeError, ManualClock } from '../../../src/domain/index.js';
import { EmbeddedMasterDataStore, MasterData } from '../../../src/mdm/index.js';

const home = mkdtempSync(path.join(tmpdir(), 'alphalake-accounts-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 11, 1, 9, 0) * 1_000;

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    if (isAlphalakeError(error)) return error.code;
    throw error;
  }
  return 'no error';
}

describe('Accounts', () => {
  const clock = new ManualClock(T0);
  const changes: AccountChange[] = [];
  const accounts = new Accounts(FileUserStore.inHome(home), clock, {
    record: async (change) => {
      changes.push(change);
    },
  });

  it('reports each change with who, when, before and after, and never a key digest', async () => {
    await accounts.addUser('ana', 'viewer', 'root');
    clock.advance(1);
    await accounts.setRole('ana', 'analyst', 'root');
    clock.advance(1);
    const created = await accounts.createKey('ana', 'ci', 'root');
    clock.advance(1);
    await accounts.revokeKey(created.record.id, 'ana (key x)');
    clock.advance(1);
    await accounts.revokeKey(created.record.id, 'root'); // already revoked: nothing changes
    const key = { id: created.record.id, user: 'ana', label: 'ci', createdAt: T0 + 2 };
    // Each record has an id of its own, ordered by its time (the audit log's key).
    expect(new Set(changes.map((c) => c.id)).size).toBe(changes.length);
    for (const c of changes)
      expect(c.id.startsWith(`${String(c.at).padStart(17, '0')}-`)).toBe(true);
    expect(changes.map(({ id: _id, ...rest }) => rest)).toEqual([
      {
        action: 'user.add',
        actor: 'root',
        at: T0,
        subject: 'ana',
        before: null,
        after: { name: 'ana', role: 'viewer', createdAt: T0 },
      },
      {
        action: 'user.set-role',
        actor: 'root',
        at: T0 + 1,
        subject: 'ana',
        before: { name: 'ana', role: 'viewer', createdAt: T0 },
        after: { name: 'ana', role: 'analyst', createdAt: T0 },
      },
      {
        action: 'key.create',
        actor: 'root',
        at: T0 + 2,
        subject: key.id,
        before: null,
        after: key,
      },
      {
        action: 'key.revoke',
        actor: 'ana (key x)',
        at: T0 + 3,
        subject: key.id,
        before: key,
        after: { ...key, revokedAt: T0 + 3 },
      },
    ]);
    expect(JSON.stringify(changes)).not.toContain(created.record.hash);
  });

  it('records nothing for a change the store or the validation refused', async () => {
    const before = changes.length;
    expect(await codeOf(accounts.addUser('ana', 'admin', 'root'))).toBe('CONFLICT');
    expect(await codeOf(accounts.addUser('bad name!', 'admin', 'root'))).toBe('BAD_USER_INPUT');
    expect(await codeOf(accounts.addUser('zed', 'owner', 'root'))).toBe('BAD_USER_INPUT');
    expect(await codeOf(accounts.createKey('nobody', '', 'root'))).toBe('NOT_FOUND');
    expect(changes.length).toBe(before);
  });

  it("verifies a key as its user with the user's current role; refuses others alike", async () => {
    await accounts.addUser('bo', 'viewer', 'root');
    const { key, record } = await accounts.createKey('bo', '', 'root');
    expect(await accounts.verifyKey(key)).toEqual({
      user: 'bo',
      role: 'viewer',
      via: 'api-key',
      keyId: record.id,
    });
    await accounts.setRole('bo', 'admin', 'root');
    expect((await accounts.verifyKey(key)).role).toBe('admin');
    const wrongSecret = `alk_${record.id}_${'A'.repeat(43)}`;
    const refusals = await Promise.all(
      [wrongSecret, 'alk_0000000000000000_' + 'B'.repeat(43), 'garbage'].map(async (k) =>
        accounts.verifyKey(k).then(
          () => 'accepted',
          (error: Error) => `${(error as { code?: string }).code}: ${error.message}`,
        ),
      ),
    );
    expect(new Set(refusals)).toEqual(
      new Set(['UNAUTHENTICATED: the API key is not valid (unknown or revoked)']),
    );
  });
});

describe('Accounts audit outbox', () => {
  it('records what a change left pending (no audit log at hand, or a crash before the record) once, however often it drains', async () => {
    const folder = path.join(home, 'outbox');
    const clock = new ManualClock(T0);
    // The CLI without an audit log, or a process killed after the user store's write.
    await new Accounts(FileUserStore.inHome(folder), clock).addUser('zed', 'viewer', 'root');
    const store = FileUserStore.inHome(folder);
    const pending = await store.pendingAudit();
    expect(pending.map((c) => [c.action, c.subject])).toEqual([['user.add', 'zed']]);

    const masterData = await MasterData.open(await EmbeddedMasterDataStore.open(undefined), {
      clock,
    });
    const audit = {
      record: (c: AccountChange) =>
        masterData.recordChange(c.actor, c.action, c.subject, c.before, c.after, {
          id: c.id,
          at: c.at,
        }),
    };
    // A crash after the record reached the log, before it was settled: recorded again below.
    await audit.record(pending[0]!);
    const accounts = new Accounts(store, clock, audit);
    expect(await accounts.drainAudit()).toBe(1);
    expect(await accounts.drainAudit()).toBe(0);
    expect(await store.pendingAudit()).toEqual([]);
    const log = await masterData.auditLog({ entity: 'zed' });
    expect(log.map((r) => [r.id, r.actor, r.action])).toEqual([
      [pending[0]!.id, 'root', 'user.add'],
    ]);
  });
});
