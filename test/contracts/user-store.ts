/**
 * The user store contract (src/auth/user-store.ts): one suite, run against every adapter.
 * `userStoreContract(BACKENDS)` describes it once per backend; the unit tier runs it on
 * the embedded file store (test/unit/auth/), the services tier on the real MongoDB-wire
 * server (test/services/mongo-user-store.test.ts). Every record comes back exactly as it
 * went in, and in the order the port promises.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountChange, ApiKeyRecord, User, UserStore } from '../../src/auth/index.js';
import { isAlphalakeError } from '../../src/domain/index.js';

export interface UserStoreBackend {
  readonly name: string;
  /** An empty store of this backend. */
  open(): Promise<UserStore>;
  /** The same store opened again (a restart): what was written must all be there. */
  reopen(): Promise<UserStore>;
  /** Removes what the backend made; the stores are closed by then. */
  dispose?(): Promise<void>;
}

/** 2026-01-02T14:30:00.123456Z in µs: a time that loses nothing it should keep. */
const T0 = Date.UTC(2026, 0, 2, 14, 30) * 1_000 + 123_456;

const user = (name: string, role: User['role'], createdAt = T0): User => ({
  name,
  role,
  createdAt,
});
const key = (id: string, owner: string, createdAt: number, label = ''): ApiKeyRecord => ({
  id,
  user: owner,
  label,
  hash: `${id}`.padEnd(64, 'a'),
  createdAt,
});

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    if (isAlphalakeError(error)) return error.code;
    throw error;
  }
  return 'no error';
}

export function userStoreContract(backends: readonly UserStoreBackend[]): void {
  for (const backend of backends) {
    describe(`UserStore contract: ${backend.name}`, () => {
      let store: UserStore;

      beforeAll(async () => {
        store = await backend.open();
      });

      afterAll(async () => {
        await store.close();
        await backend.dispose?.();
      });

      it('adds users and reads them back exactly, listed by name', async () => {
        await store.addUser(user('carol', 'admin', T0 + 2));
        await store.addUser(user('alice', 'viewer', T0));
        await store.addUser(user('bob', 'analyst', T0 + 1));
        expect(await store.getUser('alice')).toEqual(user('alice', 'viewer', T0));
        expect(await store.getUser('nobody')).toBeUndefined();
        expect(await store.listUsers()).toEqual([
          user('alice', 'viewer', T0),
          user('bob', 'analyst', T0 + 1),
          user('carol', 'admin', T0 + 2),
        ]);
      });

      it('refuses a second user of the same name with CONFLICT, keeping the first', async () => {
        expect(await codeOf(store.addUser(user('alice', 'admin', T0 + 9)))).toBe('CONFLICT');
        expect(await store.getUser('alice')).toEqual(user('alice', 'viewer', T0));
      });

      it("changes a user's role, and says NOT_FOUND for a user who is not there", async () => {
        expect(await store.setRole('bob', 'admin')).toEqual(user('bob', 'admin', T0 + 1));
        expect(await store.getUser('bob')).toEqual(user('bob', 'admin', T0 + 1));
        expect(await codeOf(store.setRole('nobody', 'viewer'))).toBe('NOT_FOUND');
      });

      it('stores keys, lists them oldest first (ties by id), per user or all', async () => {
        await store.addKey(key('00000000000000b2', 'alice', T0 + 5, 'ci'));
        await store.addKey(key('00000000000000a1', 'alice', T0 + 5));
        await store.addKey(key('00000000000000c3', 'bob', T0 + 3, 'notebook'));
        expect(await store.getKey('00000000000000b2')).toEqual(
          key('00000000000000b2', 'alice', T0 + 5, 'ci'),
        );
        expect(await store.getKey('ffffffffffffffff')).toBeUndefined();
        expect((await store.listKeys('alice')).map((k) => k.id)).toEqual([
          '00000000000000a1',
          '00000000000000b2',
        ]);
        expect((await store.listKeys()).map((k) => k.id)).toEqual([
          '00000000000000c3',
          '00000000000000a1',
          '00000000000000b2',
        ]);
        expect(await store.listKeys('carol')).toEqual([]);
      });

      it('refuses a key for a user who is not there (NOT_FOUND) and a taken id (CONFLICT)', async () => {
        expect(await codeOf(store.addKey(key('00000000000000d4', 'nobody', T0)))).toBe('NOT_FOUND');
        expect(await codeOf(store.addKey(key('00000000000000a1', 'carol', T0)))).toBe('CONFLICT');
        expect(await store.getKey('00000000000000a1')).toEqual(
          key('00000000000000a1', 'alice', T0 + 5),
        );
        expect(await store.getKey('00000000000000d4')).toBeUndefined();
      });

      it('revokes a key once: a second revocation keeps the first time', async () => {
        const revoked = await store.revokeKey('00000000000000b2', T0 + 100);
        expect(revoked).toEqual({
          ...key('00000000000000b2', 'alice', T0 + 5, 'ci'),
          revokedAt: T0 + 100,
        });
        expect(await store.revokeKey('00000000000000b2', T0 + 200)).toEqual(revoked);
        expect(await store.getKey('00000000000000b2')).toEqual(revoked);
        // The other keys are untouched.
        expect(await store.getKey('00000000000000a1')).toEqual(
          key('00000000000000a1', 'alice', T0 + 5),
        );
        expect(await codeOf(store.revokeKey('ffffffffffffffff', T0))).toBe('NOT_FOUND');
      });

      it('keeps every user and key across a restart', async () => {
        const before = { users: await store.listUsers(), keys: await store.listKeys() };
        await store.close();
        store = await backend.reopen();
        expect({ users: await store.listUsers(), keys: await store.listKeys() }).toEqual(before);
        expect(before.users).toHaveLength(3);
        expect(before.keys).toHaveLength(3);
      });

      it('outbox: writes each change with its audit record, keeps the records across a restart until settled, settles each once', async () => {
        const change = (id: string, action: AccountChange['action'], subject: string, at: number) =>
          ({
            id,
            action,
            actor: 'root',
            at,
            subject,
            before: null,
            after: { n: 0.1 + 0.2 },
          }) as const;
        await store.addUser(
          user('ola', 'viewer', T0 + 50),
          change('a1', 'user.add', 'ola', T0 + 50),
        );
        await store.setRole('ola', 'admin', (before, after) => ({
          ...change('a2', 'user.set-role', 'ola', T0 + 51),
          before: { ...before },
          after: { ...after },
        }));
        const k = key('00000000000000b1', 'ola', T0 + 52);
        await store.addKey(k, change('a3', 'key.create', k.id, T0 + 52));
        await store.revokeKey(k.id, T0 + 53, () => change('a4', 'key.revoke', k.id, T0 + 53));
        // A second revocation changes nothing, so it asks for no record.
        let asked = false;
        await store.revokeKey(k.id, T0 + 54, () => {
          asked = true;
          return undefined;
        });
        expect(asked).toBe(false);
        const pending = await store.pendingAudit();
        expect(pending.map((c) => c.id)).toEqual(['a1', 'a2', 'a3', 'a4']);
        expect(pending[1]).toEqual({
          ...change('a2', 'user.set-role', 'ola', T0 + 51),
          before: user('ola', 'viewer', T0 + 50),
          after: user('ola', 'admin', T0 + 50),
        });
        expect(pending[0]!.after).toEqual({ n: 0.1 + 0.2 });
        // The records are not part of what the user and the key read as.
        expect(await store.getUser('ola')).toEqual(user('ola', 'admin', T0 + 50));
        expect(await store.getKey(k.id)).toEqual({ ...k, revokedAt: T0 + 53 });

        await store.close();
        store = await backend.reopen();
        expect((await store.pendingAudit()).map((c) => c.id)).toEqual(['a1', 'a2', 'a3', 'a4']);
        await store.settleAudit('a2');
        await store.settleAudit('a2');
        expect((await store.pendingAudit()).map((c) => c.id)).toEqual(['a1', 'a3', 'a4']);
        for (const id of ['a1', 'a3', 'a4']) await store.settleAudit(id);
        expect(await store.pendingAudit()).toEqual([]);
        expect(await store.getUser('ola')).toEqual(user('ola', 'admin', T0 + 50));
      });

      it('applies concurrent additions, none lost', async () => {
        const names = Array.from({ length: 20 }, (_, i) => `user${String(i).padStart(2, '0')}`);
        await Promise.all(names.map((name, i) => store.addUser(user(name, 'viewer', T0 + i))));
        const listed = (await store.listUsers()).map((u) => u.name);
        expect(listed.filter((name) => name.startsWith('user'))).toEqual(names);
      });
    });
  }
}
