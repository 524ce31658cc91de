import autocannon from 'autocannon';
import { parse, specifiedRules, validate } from 'graphql';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApiSchema, limitRules } from '../src/graphql/index.js';
import { envNumber } from './lake-data.js';

/**
 * The API's limits under load (issue 12):
 * 1. What the limit rules add to validation: graphql-js' specified rules alone, then with
 *    ours (depth, aliases, directives: graphql-armor; rows and page size: ours), over the
 *    same documents. Apollo keeps validated documents by hash, so a repeated query pays
 *    this once; a stream of distinct documents pays it each time.
 * 2. A flood above the rate limit: a calm client (its own address, 127.0.0.2) sends
 *    trivial queries one after another, alone and then while autocannon floods the server
 *    from 127.0.0.1 with 20 connections; the calm client's p50/p99 are printed for both,
 *    with the flood's rate and its share of 429 RATE_LIMITED answers.
 *
 * API_BENCH_SECONDS (10): the flood's length; API_BENCH_CALM_REQUESTS (500).
 */
export async function run(): Promise<void> {
  const seconds = envNumber('API_BENCH_SECONDS', 10);
  const calmRequests = envNumber('API_BENCH_CALM_REQUESTS', 500);
  console.log(
    `api limits: ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (the machine may be shared: see docs/performance.md)`,
  );
  await validationOverhead();
  await flood(seconds, calmRequests);
}

async function validationOverhead(): Promise<void> {
  const schema = await buildApiSchema();
  const documents = {
    'trivial ({ lakeStatus })': parse('{ lakeStatus { watermark } }'),
    'bars, 9 fields': parse(
      '{ bars(symbol: "AAPL", from: "2026-11-20T00:00:00Z", limit: 2000) { ts open high low close volume vwap tradeCount source } }',
    ),
    '20 aliased bars': parse(
      `{ ${Array.from({ length: 20 }, (_, i) => `b${i}: bars(symbol: "AAPL", limit: 100) { ts close }`).join(' ')} }`,
    ),
  };
  const withLimits = [...specifiedRules, ...limitRules()];
  console.log('  validation, µs per document (same process, interleaved):');
  for (const [label, document] of Object.entries(documents)) {
    const time = (rules: typeof specifiedRules, n: number): number => {
      const start = performance.now();
      for (let i = 0; i < n; i++) validate(schema, document, rules);
      return ((performance.now() - start) * 1000) / n;
    };
    time(specifiedRules, 500);
    time(withLimits, 500);
    let plain = 0;
    let limited = 0;
    for (let round = 0; round < 5; round++) {
      plain += time(specifiedRules, 1_000);
      limited += time(withLimits, 1_000);
    }
    console.log(
      `    ${label.padEnd(28)} specified rules ${(plain / 5).toFixed(1).padStart(7)}   + limits ${(limited / 5).toFixed(1).padStart(7)}   ${(limited / plain).toFixed(2)}x`,
    );
  }
}

const TRIVIAL = JSON.stringify({ query: '{ lakeStatus { watermark } }' });

async function flood(seconds: number, calmRequests: number): Promise<void> {
  const home = await mkdtemp(path.join(tmpdir(), 'alphalake-bench-flood-'));
  const limit = 3_000;
  const server = await startServer({
    ALPHALAKE_HOME: home,
    SIM_BACKFILL_SESSIONS: '1',
    RATE_LIMIT_REQUESTS: String(limit),
    RATE_LIMIT_WINDOW_SECONDS: '600',
    LOG_LEVEL: 'warn',
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await calm(server.url, agent, 50);
    const alone = await calm(server.url, agent, calmRequests);
    console.log(
      `  flood: rate limit ${limit} requests per 600 s per address; calm client alone: ${describe(alone)}`,
    );
    const flooding = autocannon({
      url: server.url,
      method: 'POST',
      connections: 20,
      duration: seconds,
      headers: { 'content-type': 'application/json' },
      body: TRIVIAL,
    });
    const during = await calm(server.url, agent, calmRequests);
    const result = await flooding;
    const refused = result.non2xx;
    console.log(
      `  flood from 127.0.0.1, 20 connections: ${(result.requests.total / result.duration).toFixed(0)} req/s, ` +
        `${((100 * refused) / Math.max(1, result.requests.total)).toFixed(1)}% refused (429), flood p99 ${result.latency.p99.toFixed(1)} ms`,
    );
    console.log(
      `  calm client (127.0.0.2) during the flood: ${describe(during)}; p99 ${(during.p99 / alone.p99).toFixed(2)}x alone`,
    );
  } finally {
    agent.destroy();
    await server.stop();
    await rm(home, { recursive: true, force: true });
  }
}

interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly failed: number;
}

function describe(l: Latency): string {
  return `p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms${l.failed ? `, ${l.failed} not 200` : ''}`;
}

/** `n` trivial queries one after another from 127.0.0.2 on one kept-alive connection. */
async function calm(url: string, agent: Agent, n: number): Promise<Latency> {
  const times: number[] = [];
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent,
          localAddress: '127.0.0.2',
          headers: { 'content-type': 'application/json', 'content-length': TRIVIAL.length },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(TRIVIAL);
    });
    times.push(performance.now() - start);
    if (status !== 200) failed++;
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), failed };
}

async function startServer(
  env: Record<string, string>,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const child = spawn(process.execPath, [path.join(root, 'dist/src/cli/main.js'), 'serve'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      const match = /GraphQL on (http:\/\/\S+\/graphql)/.exec(log);
      if (match) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(match[1] as string);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${log}`)));
  });
  return { url, stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
