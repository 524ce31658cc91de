import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { authSettingsOf, createPlatform, type Platform } from '../../src/app.js';
import { mintToken, type ApiRole } from '../../src/auth/index.js';
import { configWith, type Config } from '../../src/config/index.js';
import { isoOfMicros, ManualClock, type Trade } from '../../src/domain/index.js';
import type { ApiServer } from '../../src/graphql/index.js';
import { startLoopbackApi } from '../support/api.js';
import { postGraphql, type GqlResult } from '../support/graphql.js';
import { simulatorOf } from '../support/simulator.js';

/**
 * Jobs end to end in the embedded profile: mutations enqueue jobs on the embedded job
 * store, the in-process worker runs them, `jobProgress` over graphql-ws follows one, and
 * the oracle for a backfill is the simulator's own tape, trade for trade.
 */
const at = (iso: string): number => Date.parse(iso) * 1_000;
const T0 = at('2026-11-20T15:07:30Z');
const FROM = at('2026-11-20T00:00:00Z');
const TO = at('2026-11-20T15:00:00Z');
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-jobs-'));
const config: Config = configWith({
  home,
  port: 0,
  authMode: 'jwt',
  authJwtSecret: 'jobs-integration-secret-of-32-bytes-or-more',
  backfillSessions: 0,
  simulatorTradesPerSecond: 0.5,
  jobsPollMs: 50,
  jobsRetryDelayMs: 10,
  jobsCompactCron: undefined,
  jobsVacuumCron: undefined,
  jobsCheckpointCron: undefined,
});
let platform: Platform;
let server: ApiServer;

/** A token as `alphalake auth token` mints it; `issuedAt` in epoch µs (an old one has expired). */
const token = (role: ApiRole, issuedAt = Date.now() * 1_000) =>
  mintToken(authSettingsOf(config), { user: `${role}-user`, role, ttlSeconds: 600, now: issuedAt });

async function gql<T = Record<string, unknown>>(
  query: string,
  variables: Record<string, unknown> = {},
  authorization?: string,
): Promise<GqlResult<T>> {
  // An admin may do everything the jobs API offers; the role tests below say otherwise.
  return postGraphql<T>(
    server.url,
    query,
    variables,
    authorization ?? `Bearer ${await token('admin')}`,
  );
}

interface JobView {
  id: string;
  kind: string;
  state: string;
  percent: number | null;
  rows: number | null;
  lastError: string | null;
  failCount: number;
}

const JOB_FIELDS = 'id kind state percent rows lastError failCount';

async function job(id: string): Promise<JobView & { history: { event: string }[] }> {
  const result = await gql<{ job: JobView & { history: { event: string }[] } }>(
    `query($id: ID!) { job(id: $id) { ${JOB_FIELDS} history { event } } }`,
    { id },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.job;
}

/** Every event of `jobProgress(jobId)` until the server completes the subscription. */
async function followProgress(jobId: string): Promise<JobView[]> {
  const authorization = `Bearer ${await token('viewer')}`;
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    lazy: true,
    connectionParams: { authorization },
  });
  const events: JobView[] = [];
  return new Promise<JobView[]>((resolve, reject) => {
    client.subscribe<{ jobProgress: JobView }>(
      {
        query: `subscription($id: ID!) { jobProgress(jobId: $id) { ${JOB_FIELDS} } }`,
        variables: { id: jobId },
      },
      {
        next: (message) => {
          if (message.errors) reject(new Error(JSON.stringify(message.errors)));
          else events.push(message.data!.jobProgress);
        },
        error: reject,
        complete: () => resolve(events),
      },
    );
  }).finally(() => client.dispose());
}

/** Polls `job(id)` until it is COMPLETED or FAILED. */
async function settled(id: string): Promise<JobView & { history: { event: string }[] }> {
  for (;;) {
    const view = await job(id);
    if (view.state === 'COMPLETED' || view.state === 'FAILED') return view;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  platform = await createPlatform(config, { clock: new ManualClock(T0) });
  await platform.start({ live: false });
  await platform.startJobWorker();
  server = await startLoopbackApi(platform);
});

afterAll(async () => {
  await server?.close();
  await platform?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('jobs over GraphQL (embedded)', () => {
  let backfillId: string;

  const BACKFILL = `mutation($from: DateTime!, $to: DateTime!) {
    backfill(source: "simulator", symbols: [], from: $from, to: $to)
  }`;

  it('refuses a backfill to a viewer (FORBIDDEN), and to a tampered or expired token (UNAUTHENTICATED)', async () => {
    const range = { from: isoOfMicros(FROM), to: isoOfMicros(TO) };
    const viewer = await token('viewer');
    // The viewer's header and claims under an analyst token's signature: a role raised by hand.
    const signature = (await token('analyst')).split('.')[2];
    const tampered = `${viewer.split('.').slice(0, 2).join('.')}.${signature}`;
    const expired = await token('analyst', (Date.now() - 3_600_000) * 1_000);
    const codeOf = (result: GqlResult<unknown>) => result.errors?.[0]?.extensions?.code;
    expect(codeOf(await gql(BACKFILL, range, `Bearer ${viewer}`))).toBe('FORBIDDEN');
    expect(codeOf(await gql(BACKFILL, range, `Bearer ${tampered}`))).toBe('UNAUTHENTICATED');
    expect(codeOf(await gql(BACKFILL, range, `Bearer ${expired}`))).toBe('UNAUTHENTICATED');
    // None of them enqueued anything.
    const listed = await gql<{ jobs: { total: number } }>('{ jobs(kind: BACKFILL) { total } }');
    expect(listed.data?.jobs.total).toBe(0);
  });

  it('backfill as an analyst answers a job id; progress arrives over jobProgress; the rows are then in the lake', async () => {
    const enqueued = await gql<{ backfill: string }>(
      BACKFILL,
      { from: isoOfMicros(FROM), to: isoOfMicros(TO) },
      `Bearer ${await token('analyst')}`,
    );
    expect(enqueued.errors).toBeUndefined();
    backfillId = enqueued.data!.backfill;
    expect(typeof backfillId).toBe('string');
    // The audit log (admins only) says who asked for it, and what.
    const audit = await gql<{
      auditLog: { actor: string; action: string; after: Record<string, unknown> }[];
    }>('query($id: String) { auditLog(entity: $id) { actor action after } }', { id: backfillId });
    expect(audit.errors).toBeUndefined();
    expect(audit.data!.auditLog).toEqual([
      {
        actor: 'analyst-user',
        action: 'job.enqueue',
        after: {
          kind: 'backfill',
          source: 'simulator',
          symbols: [],
          // The job's request as stored: epoch µs.
          from: FROM,
          to: TO,
        },
      },
    ]);

    const events = await followProgress(backfillId);
    const last = events.at(-1)!;
    expect(last.state).toBe('COMPLETED');
    expect(last.percent).toBe(100);
    // Progress came before completion: the running job reported a share below 100.
    const running = events.filter((e) => e.state === 'RUNNING');
    expect(running.length).toBeGreaterThan(0);
    expect(running.some((e) => e.percent !== null && e.percent < 100)).toBe(true);
    const percents = events.flatMap((e) => (e.percent === null ? [] : [e.percent]));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));

    // The oracle: the simulator's tape of [FROM, TO), generated afresh.
    const simulator = simulatorOf(config);
    const expected: Trade[] = [];
    for (const second of simulator.tape(FROM, TO, { quotes: false }))
      expected.push(...second.trades);
    expect(last.rows).toBe(expected.length);

    const aapl = expected.filter((t) => t.symbol === 'AAPL');
    const served = await gql<{
      trades: { tsMicros: number; seq: number; price: number; size: number }[];
    }>(
      `query($from: DateTime!, $to: DateTime!) {
        trades(symbol: "AAPL", from: $from, to: $to, limit: 100000) { tsMicros seq price size source }
      }`,
      { from: isoOfMicros(FROM), to: isoOfMicros(TO) },
    );
    expect(served.errors).toBeUndefined();
    expect(served.data!.trades).toEqual(
      aapl.map((t) => ({
        tsMicros: t.ts,
        seq: t.seq,
        price: t.price,
        size: t.size,
        source: 'LAKE',
      })),
    );
    expect(platform.sink.watermark()).toBe(TO);
  });

  it('lists jobs and shows a job’s history', async () => {
    const view = await job(backfillId);
    expect(view.history.map((h) => h.event)).toEqual(['locked', 'start', 'success', 'complete']);
    const page = await gql<{ jobs: { total: number; jobs: { id: string }[] } }>(
      '{ jobs(kind: BACKFILL, state: COMPLETED) { total jobs { id } } }',
    );
    expect(page.data!.jobs).toEqual({ total: 1, jobs: [{ id: backfillId }] });
  });

  it('retrain fails with NOT_IMPLEMENTED as its reason, once, never a success', async () => {
    const enqueued = await gql<{ retrain: string }>('mutation { retrain(model: "lstm-5m") }');
    expect(enqueued.errors).toBeUndefined();
    const view = await settled(enqueued.data!.retrain);
    expect(view).toMatchObject({ kind: 'RETRAIN', state: 'FAILED', failCount: 1 });
    expect(view.lastError).toBe(
      'retraining "lstm-5m" needs a model trainer, and none is installed yet (the ML work)',
    );
    expect(view.history.map((h) => h.event)).not.toContain('success');
    expect(view.history.map((h) => h.event)).toContain('retry:exhausted');
  });

  it('compacts and vacuums a table; an unknown table is BAD_USER_INPUT at once', async () => {
    const compacted = await gql<{ compact: string }>(
      'mutation { compact(table: "bronze.trades") }',
    );
    expect(compacted.errors).toBeUndefined();
    expect((await settled(compacted.data!.compact)).state).toBe('COMPLETED');
    const vacuumed = await gql<{ vacuum: string }>(
      'mutation { vacuum(table: "silver.bars_1m", retentionHours: 200) }',
    );
    expect(vacuumed.errors).toBeUndefined();
    expect(await settled(vacuumed.data!.vacuum)).toMatchObject({
      state: 'COMPLETED',
      percent: 100,
    });
    const unknown = await gql('mutation { compact(table: "gold.nothing") }');
    expect(unknown.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const ragged = await gql(
      'mutation { backfill(source: "simulator", from: "2026-11-19T00:00:30Z", to: "2026-11-19T01:00:00Z") }',
    );
    expect(ragged.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const missing = await gql('{ job(id: "no-such-job") { id } }');
    expect(missing).toEqual({ data: { job: null } });
  });

  it('keeps every job across a restart of the platform', async () => {
    const before = await gql<{ jobs: { total: number } }>('{ jobs { total } }');
    await server.close();
    await platform.stop();
    platform = await createPlatform(config, { clock: new ManualClock(T0) });
    await platform.start({ live: false });
    server = await startLoopbackApi(platform);
    const after = await gql<{ jobs: { total: number } }>('{ jobs { total } }');
    expect(after.data!.jobs.total).toBe(before.data!.jobs.total);
    expect((await job(backfillId)).state).toBe('COMPLETED');
  });
});
