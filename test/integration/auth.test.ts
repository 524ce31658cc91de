import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createClient, type Client } from 'graphql-ws';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { authSettingsOf, createPlatform, type Platform } from '../../src/app.js';
import { mintToken, type ApiRole } from '../../src/auth/index.js';
import { configWith, type Config } from '../../src/config/index.js';
import { RESPONSE_CACHE_HEADER, type ApiServer } from '../../src/graphql/index.js';
import { startLoopbackApi } from '../support/api.js';

/**
 * Authentication and authorization through the real server: HTTP (fetch) and graphql-ws
 * against a loopback port, HS256 tokens minted as `alphalake auth token` mints them,
 * API keys made through the admin mutations, and a JWKS served by a local HTTP server.
 */
const SECRET = 'integration-secret-of-at-least-32-bytes';
/** A private key as jose makes it (a WebCrypto key). */
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

interface Answer {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  cache: string | null;
  authenticate: string | null;
}

async function post(
  url: string,
  query: string,
  headers: Record<string, string> = {},
  variables?: Record<string, unknown>,
): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return {
    status: response.status,
    body: (await response.json()) as Answer['body'],
    cache: response.headers.get(RESPONSE_CACHE_HEADER),
    authenticate: response.headers.get('www-authenticate'),
  };
}

const codes = (answer: Answer) => answer.body.errors?.map((e) => e.extensions?.code);

describe('auth with an HS256 secret', () => {
  const home = mkdtempSync(path.join(tmpdir(), 'alphalake-auth-'));
  let config: Config;
  let platform: Platform;
  let server: ApiServer;
  const token = (user: string, role: ApiRole, ttlSeconds = 3600, now = Date.now() * 1_000) =>
    mintToken(authSettingsOf(config), { user, role, ttlSeconds, now });
  const bearer = async (user: string, role: ApiRole) => ({
    authorization: `Bearer ${await token(user, role)}`,
  });

  beforeAll(async () => {
    config = configWith({
      home,
      port: 0,
      simulatorEnabled: false,
      authJwtSecret: SECRET,
      responseCacheMb: 8,
    });
    expect(config.authMode).toBe('jwt');
    platform = await createPlatform(config);
    // No simulator, so master data starts empty: the live-trade test's ticker must exist.
    await platform.masterData.ensureSymbols(['AAPL'], 'test');
    await platform.start({ live: false });
    server = await startLoopbackApi(platform, { responseCacheBytes: 8 * 1024 * 1024 });
  });

  afterAll(async () => {
    await server?.close();
    await platform?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('refuses a request without credentials with 401 UNAUTHENTICATED, before it is even validated', async () => {
    const known = await post(server.url, '{ lakeStatus { watermark } }');
    const unknown = await post(server.url, '{ noSuchField }');
    for (const answer of [known, unknown]) {
      expect(answer.status).toBe(401);
      expect(codes(answer)).toEqual(['UNAUTHENTICATED']);
      expect(answer.body.data).toBeUndefined();
      expect(answer.authenticate).toBe('Bearer realm="alphalake"');
    }
    // The same words whether or not the field exists: nothing about the schema leaks.
    expect(unknown.body).toEqual(known.body);
  });

  it('refuses a tampered, an expired, a foreign and a malformed token with UNAUTHENTICATED', async () => {
    const viewer = await token('mallory', 'viewer');
    const [header, payload, signature] = viewer.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as object;
    const promoted = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString(
      'base64url',
    );
    const expired = await token('alice', 'admin', 60, (Date.now() - 7_200_000) * 1_000);
    const foreign = await mintToken(
      { ...authSettingsOf(config), secret: 'a-different-secret-also-32-bytes-long' },
      { user: 'alice', role: 'admin', ttlSeconds: 3600, now: Date.now() * 1_000 },
    );
    const answers = {
      tampered: await post(server.url, '{ me { user } }', {
        authorization: `Bearer ${header}.${promoted}.${signature}`,
      }),
      expired: await post(server.url, '{ me { user } }', { authorization: `Bearer ${expired}` }),
      foreign: await post(server.url, '{ me { user } }', { authorization: `Bearer ${foreign}` }),
      malformed: await post(server.url, '{ me { user } }', { authorization: 'Bearer not-a-jwt' }),
      basic: await post(server.url, '{ me { user } }', { authorization: 'Basic YTpi' }),
    };
    for (const [name, answer] of Object.entries(answers)) {
      expect([name, answer.status, codes(answer)]).toEqual([name, 401, ['UNAUTHENTICATED']]);
    }
    expect(answers.expired.body.errors?.[0]?.message).toBe('the token has expired (`exp`)');
    expect(answers.tampered.body.errors?.[0]?.message).toBe(
      'the token’s signature does not verify',
    );
  });

  it('lets a viewer read (me, lakeStatus, lakeRows)', async () => {
    const answer = await post(
      server.url,
      '{ me { user role via keyId } lakeRows(table: "bronze.trades", limit: 1) { rows } }',
      await bearer('vera', 'viewer'),
    );
    expect(answer.body).toEqual({
      data: {
        me: { user: 'vera', role: 'viewer', via: 'jwt', keyId: null },
        lakeRows: { rows: [] },
      },
    });
  });

  it('answers FORBIDDEN to a role too low, the same whether the record exists or not', async () => {
    const admin = await bearer('root', 'admin');
    await post(server.url, 'mutation { addUser(name: "kim", role: analyst) { name } }', admin);
    const created = await post(
      server.url,
      'mutation { createApiKey(user: "kim") { apiKey { id } } }',
      admin,
    );
    const keyId = (created.body.data?.createApiKey as { apiKey: { id: string } }).apiKey.id;
    for (const role of ['viewer', 'analyst'] as const) {
      const headers = await bearer('someone', role);
      const add = await post(
        server.url,
        'mutation { addUser(name: "eve", role: admin) { name } }',
        headers,
      );
      expect([role, add.status, codes(add), add.body.data]).toEqual([
        role,
        200,
        ['FORBIDDEN'],
        null,
      ]);
      const existing = await post(
        server.url,
        `mutation { revokeApiKey(id: "${keyId}") { id } }`,
        headers,
      );
      const missing = await post(
        server.url,
        'mutation { revokeApiKey(id: "0000000000000000") { id } }',
        headers,
      );
      expect(existing.body).toEqual(missing.body);
      expect(codes(existing)).toEqual(['FORBIDDEN']);
      expect(existing.body.errors?.[0]?.message).toBe(`this needs the admin role; you are ${role}`);
    }
    // Nothing the refused mutations asked for happened.
    const users = await post(server.url, '{ users { name keys { id revokedAt } } }', admin);
    expect(users.body.data?.users).toEqual([
      { name: 'kim', keys: [{ id: keyId, revokedAt: null }] },
    ]);
  });

  it('creates an API key shown once, authenticates with it by either header, and revokes it', async () => {
    const admin = await bearer('root', 'admin');
    await post(server.url, 'mutation { addUser(name: "svc", role: analyst) { name } }', admin);
    const created = await post(
      server.url,
      'mutation { createApiKey(user: "svc", label: "nightly") { key apiKey { id user label revokedAt } } }',
      admin,
    );
    const { key, apiKey } = created.body.data?.createApiKey as {
      key: string;
      apiKey: { id: string; user: string; label: string; revokedAt: null };
    };
    expect(key).toMatch(new RegExp(`^alk_${apiKey.id}_[A-Za-z0-9_-]{43}$`));
    expect(apiKey).toEqual({ id: apiKey.id, user: 'svc', label: 'nightly', revokedAt: null });
    const me = { me: { user: 'svc', role: 'analyst', via: 'api-key', keyId: apiKey.id } };
    const query = '{ me { user role via keyId } }';
    expect((await post(server.url, query, { 'x-api-key': key })).body).toEqual({ data: me });
    expect((await post(server.url, query, { authorization: `ApiKey ${key}` })).body).toEqual({
      data: me,
    });
    // The key's secret is nowhere in what an admin can list.
    const listed = await post(server.url, '{ users { name keys { id label } } }', admin);
    expect(JSON.stringify(listed.body)).not.toContain(key.slice(`alk_${apiKey.id}_`.length));

    const revoked = await post(
      server.url,
      `mutation { revokeApiKey(id: "${apiKey.id}") { id revokedAt } }`,
      admin,
    );
    expect((revoked.body.data?.revokeApiKey as { revokedAt: string | null }).revokedAt).not.toBe(
      null,
    );
    const after = await post(server.url, query, { 'x-api-key': key });
    const madeUp = await post(server.url, query, {
      'x-api-key': `alk_${apiKey.id}_${'A'.repeat(43)}`,
    });
    for (const answer of [after, madeUp]) {
      expect([answer.status, codes(answer)]).toEqual([401, ['UNAUTHENTICATED']]);
    }
    // A revoked key and a made-up one are refused in the same words.
    expect(after.body).toEqual(madeUp.body);
  });

  it("keys the response cache by role: one role's answer is never another's", async () => {
    const query = '{ lakeStatus { watermark } }';
    const viewer = await bearer('vera', 'viewer');
    const first = await post(server.url, query, viewer);
    const again = await post(server.url, query, viewer);
    expect([first.cache, again.cache]).toEqual(['stored', 'hit']);
    const admin = await post(server.url, query, await bearer('root', 'admin'));
    expect(admin.cache).toBe('stored');
    expect(admin.body).toEqual(first.body);
    // Without credentials the cache is never consulted.
    const anonymous = await post(server.url, query);
    expect([anonymous.status, anonymous.cache]).toEqual([401, null]);
    // Nor with an expired or a tampered token for the very request that is cached.
    const expired = await token('vera', 'viewer', 60, (Date.now() - 3_600_000) * 1_000);
    const [header, payload, signature] = (await token('vera', 'viewer')).split('.') as [
      string,
      string,
      string,
    ];
    const tampered = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    for (const bad of [expired, tampered]) {
      const refused = await post(server.url, query, { authorization: `Bearer ${bad}` });
      expect([refused.status, refused.cache, codes(refused)]).toEqual([
        401,
        null,
        ['UNAUTHENTICATED'],
      ]);
    }
    expect((await post(server.url, query, viewer)).cache).toBe('hit');
  });

  it('shares users and keys with the CLI while it runs, and takes the tokens `auth token` mints', async () => {
    const run = promisify(execFile);
    const cli = async (...args: string[]) =>
      (
        await run(process.execPath, [CLI, ...args], {
          env: { PATH: process.env.PATH ?? '', ALPHALAKE_HOME: home, AUTH_JWT_SECRET: SECRET },
        })
      ).stdout.trim();
    expect(await cli('users', 'add', 'cli-user', '--role', 'analyst')).toBe(
      'added cli-user (analyst)',
    );
    const key = await cli('users', 'create-key', 'cli-user', '--label', 'from the CLI');
    const id = key.split('_')[1] ?? '';
    expect(await cli('users', 'list')).toContain(`key ${id}\tactive`);
    const query = '{ me { user role via } }';
    expect((await post(server.url, query, { 'x-api-key': key })).body).toEqual({
      data: { me: { user: 'cli-user', role: 'analyst', via: 'api-key' } },
    });
    const minted = await cli('auth', 'token', '--user', 'tess', '--role', 'admin', '--ttl', '5m');
    expect((await post(server.url, query, { authorization: `Bearer ${minted}` })).body).toEqual({
      data: { me: { user: 'tess', role: 'admin', via: 'jwt' } },
    });
    expect(await cli('users', 'revoke-key', id)).toMatch(
      new RegExp(`^revoked key ${id} of cli-user`),
    );
    const after = await post(server.url, query, { 'x-api-key': key });
    expect([after.status, codes(after)]).toEqual([401, ['UNAUTHENTICATED']]);
  });

  describe('over graphql-ws', () => {
    const clients: Client[] = [];
    const client = (connectionParams?: Record<string, unknown>) => {
      const made = createClient({
        url: server.wsUrl,
        webSocketImpl: WebSocket,
        lazy: true,
        retryAttempts: 0,
        ...(connectionParams ? { connectionParams } : {}),
      });
      clients.push(made);
      return made;
    };
    /** The first result or error of one operation. */
    const first = (c: Client, query: string) =>
      new Promise<{ data?: unknown; errors?: readonly { extensions?: { code?: string } }[] }>(
        (resolve, reject) => {
          const stop = c.subscribe(
            { query },
            {
              next: (result) => {
                stop();
                resolve(result as { data?: unknown });
              },
              error: (error: unknown) => {
                if (Array.isArray(error)) resolve({ errors: error });
                else reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
              },
              complete: () => undefined,
            },
          );
        },
      );

    afterAll(async () => {
      await Promise.all(clients.map((c) => c.dispose()));
    });

    it('takes a token or an API key from connectionParams', async () => {
      const viewer = await token('vera', 'viewer');
      expect(
        await first(client({ authorization: `Bearer ${viewer}` }), '{ me { user role } }'),
      ).toEqual({
        data: { me: { user: 'vera', role: 'viewer' } },
      });
      const admin = await bearer('root', 'admin');
      await post(server.url, 'mutation { addUser(name: "ws", role: viewer) { name } }', admin);
      const created = await post(
        server.url,
        'mutation { createApiKey(user: "ws") { key } }',
        admin,
      );
      const key = (created.body.data?.createApiKey as { key: string }).key;
      expect(await first(client({ 'x-api-key': key }), '{ me { user via } }')).toEqual({
        data: { me: { user: 'ws', via: 'api-key' } },
      });
    });

    it('refuses a subscription without, or with a tampered or expired, token: UNAUTHENTICATED', async () => {
      const expired = await token('alice', 'admin', 60, (Date.now() - 7_200_000) * 1_000);
      const viewer = await token('vera', 'viewer');
      const tampered = `${viewer.slice(0, -4)}AAAA`;
      const subscription = 'subscription { trades(symbols: ["AAPL"]) { price } }';
      for (const params of [
        undefined,
        { authorization: `Bearer ${expired}` },
        { authorization: `Bearer ${tampered}` },
      ]) {
        const answer = await first(client(params), subscription);
        expect(answer.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
      }
    });

    it('delivers live trades to a signed-in viewer', async () => {
      const viewer = await token('vera', 'viewer');
      const received = first(
        client({ authorization: `Bearer ${viewer}` }),
        'subscription { trades(symbols: ["AAPL"]) { symbol price } }',
      );
      let delivered = false;
      void received.then(() => (delivered = true));
      // Trades go in until the subscription (which starts asynchronously) has one.
      for (let seq = 1; !delivered && seq <= 100; seq++) {
        await platform.ingestor.ingest(
          {
            trades: [
              {
                symbol: 'AAPL',
                ts: Date.now() * 1_000,
                seq,
                price: 200.5,
                size: 1,
                id: `ws-${seq}`,
                exchange: 'XNAS',
              },
            ],
            quotes: [],
          },
          'auth-test',
        );
        await Promise.race([received, new Promise((resolve) => setTimeout(resolve, 100))]);
      }
      expect(await received).toEqual({ data: { trades: { symbol: 'AAPL', price: 200.5 } } });
    });
  });
});

describe('auth with a JWKS (RS256 and ES256)', () => {
  const home = mkdtempSync(path.join(tmpdir(), 'alphalake-auth-jwks-'));
  let jwks: Server;
  let platform: Platform;
  let server: ApiServer;
  let es256: PrivateKey;
  let rs256: PrivateKey;
  let stranger: PrivateKey;
  let jwksRequests = 0;

  const sign = (key: PrivateKey, alg: 'ES256' | 'RS256', kid: string, role: ApiRole) =>
    new SignJWT({ role })
      .setProtectedHeader({ alg, kid })
      .setSubject(`${alg.toLowerCase()}-user`)
      .setIssuer('https://idp.example')
      .setAudience('alphalake-api')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(key);

  beforeAll(async () => {
    const ec = await generateKeyPair('ES256');
    const rsa = await generateKeyPair('RS256');
    es256 = ec.privateKey;
    rs256 = rsa.privateKey;
    stranger = (await generateKeyPair('ES256')).privateKey;
    const keys: JWK[] = [
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    ];
    jwks = createServer((_req, res) => {
      jwksRequests++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const port = (jwks.address() as AddressInfo).port;
    platform = await createPlatform(
      configWith({
        home,
        port: 0,
        simulatorEnabled: false,
        authJwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
        authJwtIssuer: 'https://idp.example',
        authJwtAudience: 'alphalake-api',
      }),
    );
    await platform.start({ live: false });
    server = await startLoopbackApi(platform);
  });

  afterAll(async () => {
    await server?.close();
    await platform?.stop();
    await new Promise((resolve) => jwks?.close(resolve));
    rmSync(home, { recursive: true, force: true });
  });

  it('accepts ES256 and RS256 tokens signed with keys of the set', async () => {
    const query = '{ me { user role via } }';
    const ec = await post(server.url, query, {
      authorization: `Bearer ${await sign(es256, 'ES256', 'ec-1', 'analyst')}`,
    });
    const rsa = await post(server.url, query, {
      authorization: `Bearer ${await sign(rs256, 'RS256', 'rsa-1', 'viewer')}`,
    });
    expect([ec.body, rsa.body]).toEqual([
      { data: { me: { user: 'es256-user', role: 'analyst', via: 'jwt' } } },
      { data: { me: { user: 'rs256-user', role: 'viewer', via: 'jwt' } } },
    ]);
    expect(jwksRequests).toBeGreaterThan(0);
  });

  it('refuses a token signed by a key outside the set, and an HS256 token it has no secret for', async () => {
    const outsider = await post(server.url, '{ me { user } }', {
      authorization: `Bearer ${await sign(stranger, 'ES256', 'ec-1', 'admin')}`,
    });
    const hs256 = await mintToken(
      {
        secret: SECRET,
        issuer: 'https://idp.example',
        audience: 'alphalake-api',
        roleClaim: 'role',
      },
      { user: 'x', role: 'admin', ttlSeconds: 600, now: Date.now() * 1_000 },
    );
    const shared = await post(server.url, '{ me { user } }', { authorization: `Bearer ${hs256}` });
    for (const answer of [outsider, shared]) {
      expect([answer.status, codes(answer)]).toEqual([401, ['UNAUTHENTICATED']]);
    }
  });
});

describe('alphalake serve with auth on and nothing to verify a token with', () => {
  it('refuses to start and says what to set', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'alphalake-auth-refuse-'));
    try {
      const run = promisify(execFile)(
        process.execPath,
        [CLI, 'serve', '--port', '0', '--home', home],
        {
          env: { PATH: process.env.PATH ?? '' },
        },
      );
      const failure = await run.then(
        () => undefined,
        (error: { code?: number; stderr?: string }) => error,
      );
      expect(failure?.code).toBe(2);
      expect(failure?.stderr).toContain('AUTH_MODE=jwt, the default');
      for (const variable of ['AUTH_JWT_SECRET', 'AUTH_JWKS_URL', 'AUTH_MODE=off']) {
        expect(failure?.stderr).toContain(variable);
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
