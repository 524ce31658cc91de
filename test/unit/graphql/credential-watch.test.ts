import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Accounts,
  FileUserStore,
  jwtAuthenticator,
  mintToken,
  TokenVerifier,
  type AuthSettings,
} from '../../../src/auth/index.js';
import { systemClock } from '../../../src/domain/index.js';
import { CredentialWatch, UNAUTHENTICATED_CLOSE_CODE } from '../../../src/graphql/index.js';

const home = mkdtempSync(path.join(tmpdir(), 'alphalake-credential-watch-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const SETTINGS: AuthSettings = {
  mode: 'jwt',
  secret: 'credential-watch-unit-secret-of-32-bytes',
  issuer: 'alphalake',
  audience: 'alphalake',
  roleClaim: 'role',
};

describe('CredentialWatch', () => {
  it('says `token expired` when the re-check, not the timer, finds a token past its exp', async () => {
    const auth = jwtAuthenticator(SETTINGS, new Accounts(FileUserStore.inHome(home), systemClock));
    // A real token that expired a minute ago: jose refuses it with its own message.
    const token = await mintToken(SETTINGS, {
      user: 'ada',
      role: 'viewer',
      ttlSeconds: 1,
      now: (Date.now() - 61_000) * 1_000,
    });
    const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
      exp: number;
    };
    const watch = new CredentialWatch({ auth, recheckMs: 0 });
    const closes: [number, string][] = [];
    watch.watch(
      {},
      { kind: 'bearer', token },
      { user: 'ada', role: 'viewer', via: 'jwt', expiresAt: exp.exp * 1_000_000 },
      (code, reason) => closes.push([code, reason]),
    );
    // The re-check starts before the expiry timer's callback can run.
    await watch.recheck();
    expect(closes).toEqual([[UNAUTHENTICATED_CLOSE_CODE, 'UNAUTHENTICATED: token expired']]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(closes).toHaveLength(1); // the timer found the connection closed already
    watch.stop();
    await expect(new TokenVerifier(SETTINGS).verify(token)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });
});
