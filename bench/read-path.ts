import autocannon, { type Result } from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAY_US, HOUR_US, isoOfMicros, microsOfDate, parseIsoMicros } from '../src/domain/index.js';
import { envNumber } from './lake-data.js';

/**
 * The user-facing read path under load: a real server, started as `npm start` starts it
 * (`alphalake serve`, simulator history in a temporary ALPHALAKE_HOME), and autocannon
 * against it. Every figure is printed beside two ceilings measured in the same run: the
 * server's own trivial query (`{ lakeStatus { watermark } }`) and a bare Node HTTP server
 * sending the same response bytes from memory (bench/bare-server.ts), as ratios. The
 * server's event-loop delay during each case comes from its /metrics
 * (perf_hooks.monitorEventLoopDelay, reset by each scrape).
 *
 * Cases (issue 8): one symbol-day of 1-minute bars (1,440 bars, 24x7 calendar); one
 * regular session (390 bars, SIM_CALENDAR=nyse); the lambda view's last hour (lake +
 * speed, never cached: it reads the speed layer); one symbol-month of 1-minute bars on one
 * connection; a cold first query after a restart. The cached cases are also run with
 * every request distinct (no cache can answer), to show the path beneath the caches.
 *
 * READ_BENCH_SECONDS (10) per case, READ_BENCH_CONNECTIONS (20), READ_BENCH_MONTH_SESSIONS
 * (30: history for the month case), READ_BENCH_SYMBOL (AAPL).
 */
export async function run(): Promise<void> {
  const seconds = envNumber('READ_BENCH_SECONDS', 10);
  const connections = envNumber('READ_BENCH_CONNECTIONS', 20);
  const sessions = envNumber('READ_BENCH_MONTH_SESSIONS', 30);
  const symbol = process.env['READ_BENCH_SYMBOL'] || 'AAPL';
  console.log(
    `read path: autocannon, ${connections} connections, ${seconds} s per case; ${cpus().length} cores, ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} (the machine may be shared: see docs/performance.md)`,
  );
  const rows: Row[] = [];
  const home = await mkdtemp(path.join(tmpdir(), 'alphalake-bench-read-'));
  const nyseHome = await mkdtemp(path.join(tmpdir(), 'alphalake-bench-read-nyse-'));
  try {
    // --- 24x7: a symbol-day, the last hour, a symbol-month, a cold start --------------
    let started = performance.now();
    let server = await startServer({
      ALPHALAKE_HOME: home,
      SIM_CALENDAR: '24x7',
      SIM_BACKFILL_SESSIONS: String(sessions),
    });
    console.log(
      `  server (24x7, ${sessions} sessions of history) ready in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    try {
      const trivial = await measure(
        server,
        'trivial query (lakeStatus)',
        TRIVIAL,
        connections,
        seconds,
      );
      rows.push({ ...trivial, target: 'ceiling' });
      const day = lastCompleteUtcDay();
      const dayBody = barsQuery(symbol, day.from, day.to, 2_000);
      const dayBars = await barCount(server, dayBody);
      const dayCase = await measureCase(server, `symbol-day, ${dayBars.total} bars`, dayBody, {
        connections,
        seconds,
        trivial,
      });
      rows.push({ ...dayCase.served, target: '>= 0.5x trivial, p99 <= 50 ms' }, dayCase.bare);
      rows.push({
        ...(await measure(
          server,
          'symbol-day, every request distinct',
          dayBody,
          connections,
          seconds,
          {
            distinct: true,
          },
        )),
        trivial,
        target: 'no cache (context)',
      });

      const hourFrom = isoOfMicros(nowMicros() - HOUR_US);
      const hourBody = barsQuery(symbol, hourFrom, undefined, 2_000);
      const hourBars = await barCount(server, hourBody);
      const hourCase = await measureCase(
        server,
        `last hour, ${hourBars.total} bars (${hourBars.lake} lake + ${hourBars.speed} speed)`,
        hourBody,
        { connections, seconds, trivial },
      );
      rows.push({ ...hourCase.served, target: '>= 2,000 req/s, p99 <= 30 ms' }, hourCase.bare);

      const monthFrom = isoOfMicros((parseIsoMicros(day.from) as number) - 29 * DAY_US);
      const monthBody = barsQuery(symbol, monthFrom, day.to, 50_000);
      const monthBars = await barCount(server, monthBody);
      const month = await measure(
        server,
        `symbol-month, ${monthBars.total} bars, 1 connection`,
        monthBody,
        1,
        seconds,
      );
      rows.push({ ...month, trivial, target: 'p50 <= 100 ms' });
      rows.push({
        ...(await measure(
          server,
          'symbol-month, every request distinct, 1 conn.',
          monthBody,
          1,
          seconds,
          {
            distinct: true,
          },
        )),
        trivial,
        target: 'no cache (context)',
      });

      // A restart: a new process over the same lake; the first query finds nothing warm.
      await server.stop();
      started = performance.now();
      server = await startServer({ ALPHALAKE_HOME: home, SIM_CALENDAR: '24x7' });
      const readyMs = performance.now() - started;
      const first = await timedPost(server.url, dayBody);
      const second = await timedPost(server.url, dayBody);
      console.log(
        `  cold start: ready in ${readyMs.toFixed(0)} ms; first symbol-day query ${first.toFixed(1)} ms ` +
          `(target < 1,000 ms), the next ${second.toFixed(1)} ms`,
      );
    } finally {
      await server.stop();
    }

    // --- NYSE: one regular session ------------------------------------------------------
    const nyse = await startServer({ ALPHALAKE_HOME: nyseHome, SIM_CALENDAR: 'nyse' });
    try {
      const trivial = await measure(
        nyse,
        'trivial query (lakeStatus), nyse',
        TRIVIAL,
        connections,
        seconds,
      );
      rows.push({ ...trivial, target: 'ceiling' });
      const session = await lastSession(nyse, symbol);
      const sessionBody = barsQuery(symbol, session.from, session.to, 2_000);
      const sessionBars = await barCount(nyse, sessionBody);
      const sessionCase = await measureCase(
        nyse,
        `session (nyse), ${sessionBars.total} bars`,
        sessionBody,
        {
          connections,
          seconds,
          trivial,
        },
      );
      rows.push(
        { ...sessionCase.served, target: '>= 0.7x trivial, p99 <= 25 ms' },
        sessionCase.bare,
      );
    } finally {
      await nyse.stop();
    }
    printTable(rows);
  } finally {
    await rm(home, { recursive: true, force: true });
    await rm(nyseHome, { recursive: true, force: true });
  }
}

const TRIVIAL = JSON.stringify({ query: '{ lakeStatus { watermark } }' });
const BAR_FIELDS = 'ts open high low close volume vwap tradeCount source';

function barsQuery(symbol: string, from: string, to: string | undefined, limit: number): string {
  const range = `from: ${JSON.stringify(from)}${to ? `, to: ${JSON.stringify(to)}` : ''}`;
  return JSON.stringify({
    query: `{ bars(symbol: ${JSON.stringify(symbol)}, ${range}, limit: ${limit}) { ${BAR_FIELDS} } }`,
  });
}

/** The same query with another limit (above the bars it returns): another cache key, same answer. */
function distinctBody(body: string, n: number): string {
  return body.replace(/limit: (\d+)/, (_m, limit: string) => `limit: ${Number(limit) + n}`);
}

interface Server {
  readonly url: string;
  readonly metricsUrl: string;
  stop(): Promise<void>;
}

interface Figure {
  readonly label: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly loopP99?: number;
  readonly loopMax?: number;
  readonly errors: number;
  readonly trivial?: Figure;
  readonly bare?: Figure;
}

interface Row extends Figure {
  readonly target?: string;
}

async function startServer(env: Record<string, string>): Promise<Server> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const child = spawn(process.execPath, [path.join(root, 'dist/src/cli/main.js'), 'serve'], {
    // Auth off, no rate limit (one address sends every request) and no access log line per request
    // (the child's stdout is read here): the figures are the read path's own.
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      AUTH_MODE: 'off',
      RATE_LIMIT_REQUESTS: '0',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      const match = /GraphQL on (http:\/\/\S+\/graphql)/.exec(log);
      if (match) resolve(match[1] as string);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${log}`)));
  });
  return {
    url,
    metricsUrl: url.replace(/\/graphql$/, '/metrics'),
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** The bare ceiling: a server sending `bytes` from memory. */
async function startBare(bytes: string): Promise<Server> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'alphalake-bench-bare-')), 'body.json');
  await writeFile(file, bytes);
  const child = spawn(process.execPath, [path.join(here, 'bare-server.js'), file], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve) =>
    child.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())),
  );
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    metricsUrl: '',
    stop: async () => {
      await stopChild(child);
      await rm(path.dirname(file), { recursive: true, force: true });
    },
  };
}

async function post(url: string, body: string): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const text = await response.text();
  if (!response.ok || text.startsWith('{"errors"')) {
    throw new Error(`query failed (${response.status}): ${text.slice(0, 500)}`);
  }
  return text;
}

async function timedPost(url: string, body: string): Promise<number> {
  const start = performance.now();
  await post(url, body);
  return performance.now() - start;
}

async function barCount(
  server: Server,
  body: string,
): Promise<{ total: number; lake: number; speed: number }> {
  const bars = (
    JSON.parse(await post(server.url, body)) as { data: { bars: { source: string }[] } }
  ).data.bars;
  const lake = bars.filter((b) => b.source === 'LAKE').length;
  return { total: bars.length, lake, speed: bars.length - lake };
}

/** The server's event-loop delay since the previous scrape (ms). */
async function loopDelay(server: Server): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(server.metricsUrl)).text();
  const value = (name: string): number =>
    Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return {
    p99: value('alphalake_event_loop_delay_p99_seconds'),
    max: value('alphalake_event_loop_delay_max_seconds'),
  };
}

async function measure(
  server: Server,
  label: string,
  body: string,
  connections: number,
  seconds: number,
  options: { distinct?: boolean } = {},
): Promise<Figure> {
  await post(server.url, body); // warm: the first answer may be computed, the rest served
  if (server.metricsUrl) await loopDelay(server);
  let n = 0;
  const result: Result = await autocannon({
    url: server.url,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { 'content-type': 'application/json' },
    body,
    ...(options.distinct
      ? {
          requests: [
            { setupRequest: (request: object) => ({ ...request, body: distinctBody(body, ++n) }) },
          ],
        }
      : {}),
  });
  const delay = server.metricsUrl ? await loopDelay(server) : undefined;
  const figure: Figure = {
    label,
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    ...(delay ? { loopP99: delay.p99, loopMax: delay.max } : {}),
  };
  console.log(`  ${describe(figure)}`);
  return figure;
}

/** A case on the server and the same bytes from the bare ceiling. */
async function measureCase(
  server: Server,
  label: string,
  body: string,
  options: { connections: number; seconds: number; trivial: Figure },
): Promise<{ served: Row; bare: Row }> {
  const bytes = await post(server.url, body);
  const bare = await startBare(bytes);
  let bareFigure: Figure;
  try {
    bareFigure = await measure(
      bare,
      `  bare Node, same ${(bytes.length / 1024).toFixed(0)} KiB`,
      body,
      options.connections,
      options.seconds,
    );
  } finally {
    await bare.stop();
  }
  const served = await measure(server, label, body, options.connections, options.seconds);
  return {
    served: { ...served, trivial: options.trivial, bare: bareFigure },
    bare: { ...bareFigure, target: 'ceiling' },
  };
}

function describe(f: Figure): string {
  const loop =
    f.loopP99 === undefined
      ? ''
      : `   loop delay p99 ${f.loopP99.toFixed(1)} ms, max ${(f.loopMax ?? NaN).toFixed(1)} ms`;
  return (
    `${f.label.padEnd(52)} ${f.rps.toFixed(0).padStart(6)} req/s   p50 ${f.p50.toFixed(1).padStart(6)} ms` +
    `   p99 ${f.p99.toFixed(1).padStart(6)} ms${f.errors ? `   ${f.errors} errors` : ''}${loop}`
  );
}

function printTable(rows: readonly Row[]): void {
  console.log('\n  summary (ratios: this rate / the ceiling measured in the same run)');
  for (const row of rows) {
    const ratios = [
      row.trivial ? `${(row.rps / row.trivial.rps).toFixed(2)}x trivial` : '',
      row.bare ? `${(row.rps / row.bare.rps).toFixed(2)}x bare` : '',
    ]
      .filter(Boolean)
      .join(', ');
    console.log(
      `  ${row.label.trim().padEnd(52)} ${row.rps.toFixed(0).padStart(6)} req/s  p50 ${row.p50.toFixed(1).padStart(6)}  p99 ${row.p99
        .toFixed(1)
        .padStart(6)} ms  ${ratios.padEnd(26)} ${row.target ?? ''}`,
    );
  }
}

/** The wall clock in the domain's unit (epoch µs). */
function nowMicros(): number {
  return microsOfDate(new Date());
}

function lastCompleteUtcDay(): { from: string; to: string } {
  const day = Math.floor(nowMicros() / DAY_US) - 1;
  return {
    from: isoOfMicros(day * DAY_US),
    to: isoOfMicros((day + 1) * DAY_US),
  };
}

/** The UTC day of the newest complete NYSE session in the lake (the day before today, or earlier). */
async function lastSession(server: Server, symbol: string): Promise<{ from: string; to: string }> {
  for (let back = 1; back <= 10; back++) {
    const day = Math.floor(nowMicros() / DAY_US) - back;
    const range = {
      from: isoOfMicros(day * DAY_US),
      to: isoOfMicros((day + 1) * DAY_US),
    };
    const bars = await barCount(server, barsQuery(symbol, range.from, range.to, 2_000));
    if (bars.total > 0) return range;
  }
  throw new Error('no NYSE session in the last 10 days of history');
}
