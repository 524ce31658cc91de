import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  apiKeyId,
  credentialsFromConnectionParams,
  credentialsFromHeaders,
  mintToken,
  roleAllows,
  TokenVerifier,
  type TokenSettings,
} from '../../../src/auth/index.js';
import { mintApiKey } from '../../../src/auth/api-keys.js';
import { isAlphalakeError } from '../../../src/domain/index.js';

const SETTINGS: TokenSettings = {
  secret: 'a-test-secret-of-at-least-32-bytes!!',
  issuer: 'alphalake',
  audience: 'alphalake',
  roleClaim: 'role',
};
const nowMicros = () => Date.now() * 1_000;

async function refusal(work: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await work;
  } catch (error) {
    if (isAlphalakeError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  return { code: 'accepted', message: '' };
}

describe('roles', () => {
  it('orders viewer < analyst < admin', () => {
    expect(roleAllows('admin', 'analyst')).toBe(true);
    expect(roleAllows('analyst', 'analyst')).toBe(true);
    expect(roleAllows('viewer', 'analyst')).toBe(false);
    expect(roleAllows('analyst', 'admin')).toBe(false);
  });
});

describe('HS256 tokens', () => {
  const verifier = new TokenVerifier(SETTINGS);

  it('verifies a minted token as its user and role', async () => {
    const issuedAt = nowMicros();
    const token = await mintToken(SETTINGS, {
      user: 'alice',
      role: 'analyst',
      ttlSeconds: 3600,
      now: issuedAt,
    });
    // `expiresAt` is the token's `exp` (whole seconds) in µs: a live subscription closes then.
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
      exp: number;
    };
    expect(exp).toBe(Math.floor(issuedAt / 1_000_000) + 3600);
    expect(await verifier.verify(token)).toEqual({
      user: 'alice',
      role: 'analyst',
      via: 'jwt',
      expiresAt: exp * 1_000_000,
    });
  });

  it('refuses an expired token, a tampered one, and one signed with another secret', async () => {
    const expired = await mintToken(SETTINGS, {
      user: 'alice',
      role: 'admin',
      ttlSeconds: 60,
      now: nowMicros() - 3_600_000_000,
    });
    expect(await refusal(verifier.verify(expired))).toEqual({
      code: 'UNAUTHENTICATED',
      message: 'the token has expired (`exp`)',
    });
    const good = await mintToken(SETTINGS, {
      user: 'bob',
      role: 'viewer',
      ttlSeconds: 3600,
      now: nowMicros(),
    });
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const promoted = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload, 'base64url').toString()),
        role: 'admin',
      }),
    ).toString('base64url');
    expect(await refusal(verifier.verify(`${header}.${promoted}.${signature}`))).toEqual({
      code: 'UNAUTHENTICATED',
      message: 'the token’s signature does not verify',
    });
    const other = await mintToken(
      { ...SETTINGS, secret: 'another-secret-that-is-32-bytes-long' },
      { user: 'bob', role: 'viewer', ttlSeconds: 3600, now: nowMicros() },
    );
    expect((await refusal(verifier.verify(other))).code).toBe('UNAUTHENTICATED');
    expect(await refusal(verifier.verify('not.a.jwt'))).toEqual({
      code: 'UNAUTHENTICATED',
      message: 'the token is not a valid JWT',
    });
  });

  it('refuses a token for another issuer or audience, without exp, or without a known role', async () => {
    const key = new TextEncoder().encode(SETTINGS.secret);
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: Record<string, unknown>, edit: (jwt: SignJWT) => SignJWT) =>
      edit(new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('eve')).sign(key);
    const full = (jwt: SignJWT) =>
      jwt
        .setIssuer('alphalake')
        .setAudience('alphalake')
        .setExpirationTime(now + 600);
    const cases = {
      issuer: await sign({ role: 'admin' }, (jwt) => full(jwt).setIssuer('someone-else')),
      audience: await sign({ role: 'admin' }, (jwt) => full(jwt).setAudience('another-api')),
      noExpiry: await sign({ role: 'admin' }, (jwt) =>
        jwt.setIssuer('alphalake').setAudience('alphalake'),
      ),
      unknownRole: await sign({ role: 'superuser' }, full),
    };
    const codes = Object.fromEntries(
      await Promise.all(
        Object.entries(cases).map(async ([name, token]) => [
          name,
          (await refusal(verifier.verify(token))).code,
        ]),
      ),
    );
    expect(codes).toEqual({
      issuer: 'UNAUTHENTICATED',
      audience: 'UNAUTHENTICATED',
      noExpiry: 'UNAUTHENTICATED',
      unknownRole: 'UNAUTHENTICATED',
    });
    // An array of roles counts as its highest.
    expect(await verifier.verify(await sign({ role: ['viewer', 'analyst'] }, full))).toEqual({
      user: 'eve',
      role: 'analyst',
      via: 'jwt',
      expiresAt: (now + 600) * 1_000_000,
    });
  });

  it('says UNAVAILABLE, not UNAUTHENTICATED, when the JWKS does not answer', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const offline = new TokenVerifier({ ...SETTINGS, jwksUrl: 'http://127.0.0.1:1/jwks.json' });
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'k' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'a' })).toString('base64url');
    expect((await refusal(offline.verify(`${header}.${payload}.c2ln`))).code).toBe('UNAVAILABLE');
  });

  it('will not mint without a secret, and says which variable to set', async () => {
    const { secret: _, ...noSecret } = SETTINGS;
    const minted = await refusal(
      mintToken(noSecret, { user: 'a', role: 'viewer', ttlSeconds: 60, now: nowMicros() }),
    );
    expect(minted.code).toBe('BAD_USER_INPUT');
    expect(minted.message).toContain('AUTH_JWT_SECRET');
  });
});

describe('credentials', () => {
  it('reads Bearer and ApiKey Authorization headers and x-api-key', () => {
    expect(credentialsFromHeaders({ authorization: 'Bearer abc.def.ghi' })).toEqual({
      kind: 'bearer',
      token: 'abc.def.ghi',
    });
    expect(credentialsFromHeaders({ authorization: 'apikey alk_x' })).toEqual({
      kind: 'api-key',
      key: 'alk_x',
    });
    expect(credentialsFromHeaders({ 'x-api-key': 'alk_y' })).toEqual({
      kind: 'api-key',
      key: 'alk_y',
    });
    expect(credentialsFromHeaders({})).toBeUndefined();
    expect(() => credentialsFromHeaders({ authorization: 'Basic dTpw' })).toThrow(/Bearer <token>/);
  });

  it('reads graphql-ws connectionParams whatever the case of their names', () => {
    expect(credentialsFromConnectionParams({ Authorization: 'Bearer t' })).toEqual({
      kind: 'bearer',
      token: 't',
    });
    expect(credentialsFromConnectionParams({ 'X-Api-Key': 'k' })).toEqual({
      kind: 'api-key',
      key: 'k',
    });
    expect(credentialsFromConnectionParams(undefined)).toBeUndefined();
  });
});

describe('API keys', () => {
  it('are alk_<16 hex>_<43 base64url>, with a SHA-256 digest that is not the key', () => {
    const minted = mintApiKey();
    expect(minted.key).toMatch(/^alk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(apiKeyId(minted.key)).toBe(minted.id);
    expect(minted.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(minted.hash).not.toContain(minted.key.slice(21));
    expect(apiKeyId('alk_short')).toBeUndefined();
  });
});
