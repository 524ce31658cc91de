import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPlatform } from '../src/app.js';
import { configWith } from '../src/config/index.js';
import { ManualClock, type Bar } from '../src/domain/index.js';
import { DEFAULT_LIMITS, startApiServer } from '../src/graphql/index.js';
import { SLOW_CONSUMER_CLOSE_CODE } from '../src/speed/index.js';
import { envNumber } from './lake-data.js';

/**
 * 1,000 live bar subscribers (issue 12): SUBS_BENCH_SUBSCRIBERS (1000) graphql-ws clients,
 * one socket each, in a separate process (bench/subscribers-client.ts) from the server, so
 * the figure is the server's delivery and not the clients' parsing on the same event loop.
 * The server publishes SUBS_BENCH_UPDATES (500) AAPL 1-minute bars on its live hub, one
 * every SUBS_BENCH_INTERVAL_MS (20) — each beside an MSFT bar nobody follows, filtered on the
 * server — stamped with the server's wall clock (µs) in `ts`; the latency is the client's
 * wall clock at `next` minus that stamp, over every update at every subscriber. Goal:
 * p99 ≤ 100 ms.
 *
 * With SUBS_BENCH_SLOW_ALIASES (2000; 0 for none) a further subscriber asks for each bar's
 * close that many times over (≈ 24 KB an update) and stops reading its socket: once the
 * kernel's buffers are full its queue grows to LIVE_QUEUE_LIMIT (SUBS_BENCH_QUEUE_LIMIT, 100
 * here) and it is closed with SLOW_CONSUMER (code 4010). The percentiles are printed for
 * the whole run and for the updates published after the cut-off. The 1-minute load
 * average is printed before and after: the machine is shared.
 */
export async function run(): Promise<void> {
  const subscribers = envNumber('SUBS_BENCH_SUBSCRIBERS', 1000);
  const updates = envNumber('SUBS_BENCH_UPDATES', 500);
  const intervalMs = envNumber('SUBS_BENCH_INTERVAL_MS', 20);
  const slowAliases = envNumber('SUBS_BENCH_SLOW_ALIASES', 2000);
  const queueLimit = envNumber('SUBS_BENCH_QUEUE_LIMIT', 100);
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  console.log(
    `${subscribers} bar subscribers (separate process) × ${updates} updates every ${intervalMs} ms` +
      `${slowAliases > 0 ? `, one slow subscriber (${slowAliases} aliases)` : ''}; ` +
      `${cpus().length} cores, load average ${load()} (machine shared); goal p99 ≤ 100 ms`,
  );
  const home = mkdtempSync(path.join(tmpdir(), 'alphalake-bench-subs-'));
  const platform = await createPlatform(
    // Auth off: the bench measures delivery, not token checks (docs/auth.md).
    configWith({
      home,
      port: 0,
      backfillSessions: 0,
      authMode: 'off',
      rateLimitRequests: 0,
      liveQueueLimit: queueLimit,
      logLevel: 'warn',
    }),
    { clock: new ManualClock(Date.parse('2026-11-20T15:07:30Z') * 1000) },
  );
  await platform.start({ live: false });
  const server = await startApiServer(platform.api, {
    host: '127.0.0.1',
    port: 0,
    development: false,
    ready: () => platform.ready,
    auth: platform.auth,
    limits: { ...DEFAULT_LIMITS, maxAliases: Math.max(DEFAULT_LIMITS.maxAliases, slowAliases) },
  });
  const here = path.dirname(fileURLToPath(import.meta.url));
  const client = fork(path.join(here, 'subscribers-client.js'), { stdio: 'inherit' });
  try {
    client.send({ type: 'start', wsUrl: server.wsUrl, subscribers, slowAliases });
    const total = subscribers + (slowAliases > 0 ? 1 : 0);
    while (platform.hub.subscriberCount('bar') < total) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const nowMicros = () => (performance.timeOrigin + performance.now()) * 1_000;
    const bar = (symbol: string, ts: number, i: number): Bar => ({
      symbol,
      interval: '1m',
      ts,
      open: 100 + i / 100,
      high: 101 + i / 100,
      low: 99 + i / 100,
      close: 100.5 + i / 100,
      volume: 100 + i,
      vwap: 100.25 + i / 100,
      tradeCount: 1 + i,
    });
    const published: number[] = [];
    let droppedAt: number | null = null;
    const dropped = platform.hub.droppedCount();
    const began = performance.now();
    for (let i = 0; i < updates; i++) {
      const due = began + i * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const ts = Math.floor(nowMicros());
      published.push(ts);
      if (droppedAt === null && platform.hub.droppedCount() > dropped) {
        droppedAt = ts;
        client.send({ type: 'resume' });
      }
      platform.hub.publish('bar', [bar('MSFT', ts, i), bar('AAPL', ts, i)]);
    }
    const result = await new Promise<{
      all: Percentiles;
      afterDrop: Percentiles | null;
      slow: { code: number; reason: string } | null;
      failed: string | null;
    }>((resolve) => {
      client.once('message', resolve as (m: unknown) => void);
      client.send({ type: 'collect', published, droppedAt });
    });
    const line = (p: Percentiles | null) =>
      p
        ? `p50 ${p.p50.toFixed(1)} ms, p99 ${p.p99.toFixed(1)} ms, max ${p.max.toFixed(1)} ms (n=${p.n}; p99 ${(p.p99 / 100).toFixed(2)}x the goal)`
        : 'none';
    if (result.failed) {
      console.log(`  regular subscribers closed by the server: ${result.failed} — left out below`);
    }
    console.log(`  every update at every subscriber: ${line(result.all)}`);
    if (slowAliases > 0) {
      const cut =
        result.slow?.code === SLOW_CONSUMER_CLOSE_CODE
          ? `closed ${result.slow.code} ${result.slow.reason} at update ${droppedAt === null ? '?' : published.indexOf(droppedAt)}`
          : `NOT closed as SLOW_CONSUMER (${JSON.stringify(result.slow)}; cut off in the hub at update ${droppedAt === null ? 'never' : published.indexOf(droppedAt)})`;
      console.log(`  slow subscriber: ${cut}`);
      console.log(`  updates after the cut-off: ${line(result.afterDrop)}`);
    }
    console.log(`  load average after: ${load()}`);
    await new Promise((resolve) => client.once('exit', resolve));
  } finally {
    client.kill();
    await server.close();
    await platform.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly n: number;
}
