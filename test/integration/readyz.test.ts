import { startLoopbackApi } from '../support/api.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlatform, type Platform } from '../../src/app.js';
import { configWith } from '../../src/config/index.js';
import type { ApiServer } from '../../src/graphql/index.js';

/**
 * `/readyz` lists the configured backends and is not ready (503) while one is down;
 * `/healthz` stays up. The embedded platform, its in-process bus closed to take it down.
 */
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-readyz-'));
let platform: Platform;
let server: ApiServer;

beforeAll(async () => {
  platform = await createPlatform(configWith({ home, port: 0, simulatorEnabled: false }));
  await platform.start({ live: false });
  server = await startLoopbackApi(platform, { backends: (signal) => platform.backends(signal) });
});

afterAll(async () => {
  await server?.close();
  await platform?.stop();
  rmSync(home, { recursive: true, force: true });
});

const get = async (route: string) => {
  const response = await fetch(new URL(route, server.url));
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe('/readyz', () => {
  it('lists the bus and the lake, ready while both answer', async () => {
    const { status, body } = await get('/readyz');
    expect(status).toBe(200);
    expect(body['status']).toBe('ready');
    expect(body['backends']).toMatchObject({
      bus: { backend: 'memory', ready: true },
      lake: { backend: 'local', ready: true },
    });
  });

  it('is not ready while the bus is down, and /healthz stays up', async () => {
    await platform.bus.close();
    const { status, body } = await get('/readyz');
    expect(status).toBe(503);
    expect(body['status']).toBe('degraded');
    expect(body['backends']).toMatchObject({
      bus: { backend: 'memory', ready: false, detail: 'in-process bus: closed' },
      lake: { ready: true },
    });
    expect((await get('/healthz')).status).toBe(200);
  });
});
