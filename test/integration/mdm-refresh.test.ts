import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authSettingsOf, createPlatform, type Platform } from '../../src/app.js';
import { mintToken, type ApiRole } from '../../src/auth/index.js';
import { configWith, type Config } from '../../src/config/index.js';
import { ManualClock } from '../../src/domain/index.js';
import type { ApiServer } from '../../src/graphql/index.js';
import { startLoopbackApi } from '../support/api.js';
import { startPolygonRest, type VendorServer } from '../support/vendor-servers.js';

/**
 * `refreshMasterData` end to end (embedded): an admin's mutation enqueues `mdm.refresh`,
 * the in-process worker reads Polygon's reference endpoints from a local server speaking
 * their wire format, and master data changes, each change audited as `job:<id>`.
 */
const KEY = 'pk_integration_refresh_91d2';
const T0 = Date.parse('2026-11-30T12:00:00Z') * 1_000;
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-mdm-refresh-'));
let polygon: VendorServer;
let config: Config;
let platform: Platform;
let server: ApiServer;

interface GqlResult<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

const token = (role: ApiRole) =>
  mintToken(authSettingsOf(config), {
    user: `${role}-user`,
    role,
    ttlSeconds: 600,
    now: Date.now() * 1_000,
  });

async function gql<T>(
  query: string,
  variables: Record<string, unknown> = {},
  role: ApiRole = 'admin',
): Promise<GqlResult<T>> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await token(role)}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GqlResult<T>;
}

interface JobView {
  state: string;
  rows: number | null;
  lastError: string | null;
}

async function settled(id: string): Promise<JobView> {
  for (;;) {
    const result = await gql<{ job: JobView }>(
      'query($id: ID!) { job(id: $id) { state rows lastError } }',
      { id },
    );
    const view = result.data!.job;
    if (view.state === 'COMPLETED' || view.state === 'FAILED') return view;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const REFRESH = `mutation($source: String, $symbols: [String!]) {
  refreshMasterData(source: $source, symbols: $symbols)
}`;

beforeAll(async () => {
  polygon = await startPolygonRest({
    apiKey: KEY,
    details: {
      '/v3/reference/tickers/AAPL': 'polygon/ticker-AAPL.json',
      '/v3/reference/tickers/SPY': 'polygon/ticker-SPY.json',
    },
    routes: {
      '/v3/reference/tickers': 'polygon/tickers-reference.json',
      '/v3/reference/splits': 'polygon/splits-AAPL.json',
      '/v3/reference/dividends': 'polygon/dividends-AAPL.json',
    },
  });
  config = configWith({
    home,
    port: 0,
    authMode: 'jwt',
    authJwtSecret: 'mdm-refresh-integration-secret-32-bytes',
    backfillSessions: 0,
    simulatorTradesPerSecond: 0.5,
    polygonApiKey: KEY,
    polygonApiUrl: polygon.url,
    polygonCallsPerMinute: 0,
    jobsPollMs: 50,
    jobsRetryDelayMs: 10,
    jobsMaxRetries: 0,
    jobsCompactCron: undefined,
    jobsVacuumCron: undefined,
    jobsCheckpointCron: undefined,
    jobsMdmRefreshCron: undefined,
  });
  platform = await createPlatform(config, { clock: new ManualClock(T0) });
  await platform.start({ live: false });
  await platform.startJobWorker();
  server = await startLoopbackApi(platform);
});

afterAll(async () => {
  await server?.close();
  await platform?.stop();
  await polygon?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('refreshMasterData (embedded, Polygon over HTTP)', () => {
  it('is for admins: an analyst gets FORBIDDEN, an unknown source BAD_USER_INPUT', async () => {
    const analyst = await gql(REFRESH, { source: 'polygon' }, 'analyst');
    expect(analyst.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const unknown = await gql(REFRESH, { source: 'bloomberg' });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('updates and creates symbols and adds actions, audited as the job; a second run changes nothing', async () => {
    const before = platform.masterData.symbol('AAPL')!;
    const first = await gql<{ refreshMasterData: string }>(REFRESH, {
      source: 'polygon',
      symbols: ['AAPL', 'SPY'],
    });
    expect(first.errors).toBeUndefined();
    const id = first.data!.refreshMasterData;
    // 2 symbols (AAPL updated, SPY created), 2 splits and 2 dividends of AAPL.
    expect(await settled(id)).toEqual({ state: 'COMPLETED', rows: 6, lastError: null });
    // The worker's master data is this process's: the change is visible here at once.
    expect(platform.masterData.symbol('AAPL')).toMatchObject({
      id: before.id,
      name: 'Apple Inc.',
      listedDate: '1980-12-12',
      industry: 'ELECTRONIC COMPUTERS',
      version: before.version + 1,
    });
    expect(platform.masterData.symbol('SPY')).toMatchObject({
      exchange: 'ARCX',
      assetClass: 'ETF',
    });
    const audit = await platform.masterData.auditLog({ actor: `job:${id}` });
    expect(audit.map((r) => r.action)).toEqual([
      'symbol.update',
      'symbol.create',
      'corporateAction.add',
      'corporateAction.add',
      'corporateAction.add',
      'corporateAction.add',
    ]);
    // The enqueue itself is audited as the admin who asked.
    expect(
      (await platform.masterData.auditLog({ entity: id })).map((r) => [r.actor, r.action]),
    ).toEqual([['admin-user', 'job.enqueue']]);

    const all = (await platform.masterData.auditLog()).length;
    const second = await gql<{ refreshMasterData: string }>(REFRESH, {
      source: 'polygon',
      symbols: ['AAPL', 'SPY'],
    });
    const again = second.data!.refreshMasterData;
    expect(await settled(again)).toEqual({ state: 'COMPLETED', rows: 0, lastError: null });
    expect(await platform.masterData.auditLog({ actor: `job:${again}` })).toEqual([]);
    // Only the second enqueue was added to the log.
    expect(await platform.masterData.auditLog()).toHaveLength(all + 1);
  });

  it('fails with INCOMPLETE naming a ticker Polygon does not know, after applying the rest', async () => {
    const enqueued = await gql<{ refreshMasterData: string }>(REFRESH, {
      source: 'polygon',
      symbols: ['NOPE', 'SPY'],
    });
    const view = await settled(enqueued.data!.refreshMasterData);
    expect(view.state).toBe('FAILED');
    expect(view.lastError).toMatch(
      /^polygon refresh: 1 record\(s\) in error: symbol NOPE: NOT_FOUND/,
    );
  });
});
