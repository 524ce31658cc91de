import { startLoopbackApi } from '../support/api.js';
import cassandra from 'cassandra-driver';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlatform, type Platform } from '../../src/app.js';
import { configWith } from '../../src/config/index.js';
import { isAlphalakeError } from '../../src/domain/index.js';
import type { ApiServer } from '../../src/graphql/index.js';
import { CassandraSpeedStore } from '../../src/speed/index.js';
import { endpoints, requireService } from './endpoints.js';

/**
 * `/readyz` and the Cassandra speed store, on the real (shared) Cassandra, which this
 * test must never stop. The platform reaches Cassandra through a TCP relay of the test's
 * own; closing the relay (and cutting its connections) makes Cassandra unreachable for
 * this platform alone, as a network partition would.
 */
const run = `${process.pid}_${Date.now().toString(36)}`;
const keyspace = `alphalake_readyz_${run}`;
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-readyz-cassandra-'));
const [cassandraHost, cassandraPort] = endpoints.cassandra.contactPoints[0]!.split(':') as [
  string,
  string,
];

/** A TCP relay to Cassandra: `cut()` closes it and every connection through it. */
async function startRelay(): Promise<{ port: number; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    upstream.connect(Number(cassandraPort), cassandraHost, () => {
      client.pipe(upstream).pipe(client);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('relay has no port');
  return {
    port: address.port,
    cut: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

let relay: Awaited<ReturnType<typeof startRelay>>;
let platform: Platform;
let server: ApiServer;

beforeAll(async () => {
  await requireService('cassandra');
  relay = await startRelay();
  platform = await createPlatform(
    configWith({
      home,
      port: 0,
      simulatorEnabled: false,
      cassandraContactPoints: [`127.0.0.1:${relay.port}`],
      cassandraLocalDataCenter: endpoints.cassandra.localDataCenter,
      cassandraKeyspace: keyspace,
      authMode: 'off',
    }),
  );
  await platform.start({ live: false });
  server = await startLoopbackApi(platform, { backends: (signal) => platform.backends(signal) });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await platform?.stop();
  await relay?.cut();
  const admin = new cassandra.Client({
    contactPoints: [...endpoints.cassandra.contactPoints],
    localDataCenter: endpoints.cassandra.localDataCenter,
  });
  await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  await admin.shutdown();
  rmSync(home, { recursive: true, force: true });
});

const get = async (route: string) => {
  const response = await fetch(new URL(route, server.url));
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe('/readyz with the Cassandra speed store', () => {
  it('lists the speed store as Cassandra, ready while Cassandra answers', async () => {
    const { status, body } = await get('/readyz');
    expect(status).toBe(200);
    expect(body['backends']).toMatchObject({
      speedStore: {
        backend: 'cassandra',
        ready: true,
        detail: expect.stringMatching(new RegExp(`^Cassandra \\d+\\.\\d+.* keyspace ${keyspace}$`)),
      },
    });
  });

  it('is not ready (503) once Cassandra is unreachable, says why, and /healthz stays up', async () => {
    await relay.cut();
    const { status, body } = await get('/readyz');
    expect(status).toBe(503);
    expect(body['status']).toBe('degraded');
    expect(body['backends']).toMatchObject({
      speedStore: {
        backend: 'cassandra',
        ready: false,
        detail: expect.stringContaining(`Cassandra at 127.0.0.1:${relay.port} does not answer`),
      },
      bus: { ready: true },
      lake: { ready: true },
    });
    expect((await get('/healthz')).status).toBe(200);
  });
});

describe('a Cassandra speed store opened against a closed port', () => {
  it('fails to open with UNAVAILABLE, naming the address, instead of hanging', async () => {
    const opening = CassandraSpeedStore.open({
      contactPoints: ['127.0.0.1:1'],
      localDataCenter: endpoints.cassandra.localDataCenter,
      keyspace,
    });
    const error = await opening.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isAlphalakeError(error) && error.code).toBe('UNAVAILABLE');
    expect((error as Error).message).toContain('cannot connect to Cassandra at 127.0.0.1:1');
  });
});
