import { startLoopbackApi } from '../support/api.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlatform, type Platform } from '../../src/app.js';
import { configWith } from '../../src/config/index.js';
import { ManualClock, SECOND_US } from '../../src/domain/index.js';
import type { ApiServer } from '../../src/graphql/index.js';

/**
 * `/readyz` lists the configured backends and is not ready (503) while one is down;
 * `/healthz` stays up. The embedded platform, its in-process bus closed to take it down.
 */
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-readyz-'));
let platform: Platform;
let server: ApiServer;

beforeAll(async () => {
  platform = await createPlatform(
    configWith({ home, port: 0, simulatorEnabled: false, authMode: 'off' }),
  );
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
  it('lists the bus, the lake and the speed store, ready while all answer', async () => {
    const { status, body } = await get('/readyz');
    expect(status).toBe(200);
    expect(body['status']).toBe('ready');
    const version = (await platform.tables.bars1m.snapshot()).version;
    expect(body['backends']).toMatchObject({
      bus: { backend: 'memory', ready: true },
      // No trade has been sunk: no watermark yet, so no age.
      lake: { backend: 'local', ready: true, version, watermarkAgeSeconds: null },
      speedStore: { backend: 'memory', ready: true },
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

describe('/readyz on a platform with history', () => {
  const historyHome = mkdtempSync(path.join(tmpdir(), 'alphalake-readyz-history-'));
  /** A Friday afternoon (µs): the backfilled session ends before it, so the watermark trails the clock. */
  const clock = new ManualClock(Date.parse('2026-11-20T15:07:30Z') * 1_000);
  let history: Platform;
  let historyServer: ApiServer;

  beforeAll(async () => {
    history = await createPlatform(
      configWith({
        home: historyHome,
        port: 0,
        backfillSessions: 1,
        simulatorTradesPerSecond: 0.5,
        authMode: 'off',
      }),
      { clock },
    );
    await history.start({ live: false });
    historyServer = await startLoopbackApi(history, {
      backends: (signal) => history.backends(signal),
    });
  });

  afterAll(async () => {
    await historyServer?.close();
    await history?.stop();
    rmSync(historyHome, { recursive: true, force: true });
  });

  const lakeOf = async () => {
    const response = await fetch(new URL('/readyz', historyServer.url));
    const body = (await response.json()) as { backends: Record<string, Record<string, unknown>> };
    return { status: response.status, lake: body.backends['lake'] };
  };

  it('shows the watermark age in seconds against the clock, and the table version', async () => {
    const watermark = history.sink.watermark();
    expect(watermark).toBeDefined();
    const { status, lake } = await lakeOf();
    expect(status).toBe(200);
    expect(lake).toMatchObject({
      ready: true,
      version: (await history.tables.bars1m.snapshot()).version,
      watermarkAgeSeconds: (clock.now() - watermark!) / SECOND_US,
    });
  });

  it('lets the age grow without calling the lake down (no threshold)', async () => {
    const before = (await lakeOf()).lake?.['watermarkAgeSeconds'] as number;
    clock.advance(3 * 3_600 * SECOND_US);
    const { status, lake } = await lakeOf();
    expect(status).toBe(200);
    expect(lake).toMatchObject({ ready: true, watermarkAgeSeconds: before + 3 * 3_600 });
  });
});
