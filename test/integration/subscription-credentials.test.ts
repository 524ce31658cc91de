import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { authSettingsOf, createPlatform, type Platform } from '../../src/app.js';
import { mintToken } from '../../src/auth/index.js';
import { configWith, type Config } from '../../src/config/index.js';
import { ManualClock, type Trade } from '../../src/domain/index.js';
import { UNAUTHENTICATED_CLOSE_CODE, type ApiServer } from '../../src/graphql/index.js';
import { startLoopbackApi } from '../support/api.js';

/**
 * A running graphql-ws subscription is cut off when its credentials stop being valid: a
 * token at its `exp` (a real 2-second token), an API key once revoked (found by the
 * periodic re-check, every 200 ms here), each closed with code 4401 and a reason that
 * says why; a subscriber whose credentials still hold keeps receiving.
 */
const T0 = Date.parse('2026-11-20T15:07:30Z') * 1000;
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-ws-credentials-'));
const config: Config = configWith({
  home,
  port: 0,
  backfillSessions: 0,
  authMode: 'jwt',
  authJwtSecret: 'subscription-credentials-secret-of-32-bytes',
});
let platform: Platform;
let server: ApiServer;
const clients: Client[] = [];

beforeAll(async () => {
  platform = await createPlatform(config, { clock: new ManualClock(T0) });
  await platform.start({ live: false });
  server = await startLoopbackApi(platform, { authRecheckMs: 200 });
});

afterAll(async () => {
  for (const client of clients) await client.dispose();
  await server?.close();
  await platform?.stop();
  rmSync(home, { recursive: true, force: true });
});

let seq = 0;
const trade = (): Trade => ({
  symbol: 'AAPL',
  ts: T0 + ++seq,
  seq,
  price: 190.25,
  size: 100,
  id: `t${seq}`,
  exchange: 'XNAS',
});

interface Subscriber {
  readonly received: number[];
  /** Settles when the socket closes (its close code), or the subscription completes (code 0). */
  readonly closed: Promise<{ code: number; reason: string; at: number }>;
}

function subscribe(authorization: string): Subscriber {
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization },
  });
  clients.push(client);
  const received: number[] = [];
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve, reject) => {
    client.subscribe<{ trades: { seq: number } }>(
      { query: 'subscription { trades(symbols: ["AAPL"]) { seq } }' },
      {
        next: (message) => {
          if (message.errors) reject(new Error(JSON.stringify(message.errors)));
          else received.push(message.data!.trades.seq);
        },
        error: (event) => {
          const { code, reason } = event as { code: number; reason: string };
          resolve({ code, reason, at: Date.now() });
        },
        // Completed without a close (the client disposed at the end): no close code.
        complete: () => resolve({ code: 0, reason: 'completed', at: Date.now() }),
      },
    );
  });
  return { received, closed };
}

/** Publishes trades until the subscriber has one: its subscription is then running. */
async function running(subscriber: Subscriber): Promise<void> {
  while (subscriber.received.length === 0) {
    platform.hub.publish('trade', [trade()]);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('subscriptions whose credentials end', () => {
  it('closes a subscription at its token’s exp with 4401, `UNAUTHENTICATED: token expired`', async () => {
    const issuedAt = Date.now() * 1000;
    const token = await mintToken(authSettingsOf(config), {
      user: 'short-lived',
      role: 'viewer',
      ttlSeconds: 2,
      now: issuedAt,
    });
    const exp = (
      JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
        exp: number;
      }
    ).exp;
    const subscriber = subscribe(`Bearer ${token}`);
    await running(subscriber);
    const closed = await subscriber.closed;
    expect({ code: closed.code, reason: closed.reason }).toEqual({
      code: UNAUTHENTICATED_CLOSE_CODE,
      reason: 'UNAUTHENTICATED: token expired',
    });
    // Not before the token's own expiry.
    expect(closed.at).toBeGreaterThanOrEqual(exp * 1000);
  });

  it('closes a subscription on a revoked API key with 4401, `UNAUTHENTICATED: API key revoked`; others keep receiving', async () => {
    const accounts = platform.api.accounts;
    await accounts.addUser('kim', 'viewer', 'test');
    const { key, record } = await accounts.createKey('kim', 'dashboard', 'test');
    const longLived = await mintToken(authSettingsOf(config), {
      user: 'steady',
      role: 'viewer',
      ttlSeconds: 3600,
      now: Date.now() * 1000,
    });
    const keyed = subscribe(`ApiKey ${key}`);
    const steady = subscribe(`Bearer ${longLived}`);
    await running(keyed);
    await running(steady);

    await accounts.revokeKey(record.id, 'test');
    const closed = await keyed.closed;
    expect({ code: closed.code, reason: closed.reason }).toEqual({
      code: UNAUTHENTICATED_CLOSE_CODE,
      reason: 'UNAUTHENTICATED: API key revoked',
    });
    // The re-check that closed the revoked key left the valid token's subscription open.
    const before = steady.received.length;
    platform.hub.publish('trade', [trade()]);
    while (steady.received.length === before) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(steady.received.at(-1)).toBe(seq);
  });
});
