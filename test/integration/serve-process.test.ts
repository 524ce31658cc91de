import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `alphalake serve` as a user runs it (what `npm start` runs), in its own process on
 * the wall clock: history in the lake at once, the current minute from the speed
 * layer, and a stop (SIGINT) and restart that keeps the lake and carries on without a
 * gap or a duplicated bar.
 */
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-serve-'));
const MINUTE = 60_000;

interface Served {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  /** What it printed up to the URL. */
  output: string;
}

function serve(): Promise<Served> {
  // `--auth off`, as `npm start` runs it.
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--auth', 'off', '--port', '0', '--home', home],
    {
      // NODE_ENV unset, as in a user's shell (the test runner sets it to `test`).
      env: {
        ...process.env,
        NODE_ENV: '',
        SIM_BACKFILL_SESSIONS: '1',
        BATCH_INTERVAL_SECONDS: '2',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /GraphQL on (http:\/\/\S+\/graphql)/.exec(output);
      if (match) resolve({ child, url: match[1]!, exited, output });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) =>
      reject(new Error(`serve exited ${code} before answering:\n${output}`)),
    );
  });
}

interface Bar {
  ts: string;
  source: 'LAKE' | 'SPEED';
  tradeCount: number;
}

async function bars(url: string, from: number): Promise<{ bars: Bar[]; watermark: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: `query($from: DateTime) { lakeStatus { watermark } bars(symbol: "AAPL", from: $from) { ts source tradeCount } }`,
      variables: { from: new Date(from).toISOString() },
    }),
  });
  const body = (await response.json()) as {
    data: { bars: Bar[]; lakeStatus: { watermark: string } };
  };
  return { bars: body.data.bars, watermark: body.data.lakeStatus.watermark };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let running: Served | undefined;

afterAll(async () => {
  running?.child.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

describe('alphalake serve', () => {
  let firstWatermark = 0;
  const since = Date.now() - 3 * 3_600_000;

  it('answers with lake history at once and the current minute from the speed layer', async () => {
    running = await serve();
    // Auth off is said loudly, before the URL.
    expect(running.output).toContain('AUTHENTICATION IS OFF (AUTH_MODE=off)');
    // GraphiQL needs introspection, whatever NODE_ENV defaults to.
    const introspection = await fetch(running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __schema { queryType { name } } }' }),
    });
    expect(await introspection.json()).toEqual({
      data: { __schema: { queryType: { name: 'Query' } } },
    });
    const first = await bars(running.url, since);
    expect(first.bars.filter((b) => b.source === 'LAKE').length).toBeGreaterThan(150);
    firstWatermark = Date.parse(first.watermark);
    let current: Bar | undefined;
    for (let i = 0; i < 90 && !current; i++) {
      const now = Date.now();
      const { bars: latest } = await bars(running.url, now - 5 * MINUTE);
      current = latest.find((b) => Date.parse(b.ts) === Math.floor(now / MINUTE) * MINUTE);
      if (!current) await sleep(1_000);
    }
    expect(current?.source).toBe('SPEED');
  });

  it('stops on SIGINT with the lake flushed, and a restart carries on without gap or duplicate', async () => {
    await sleep(3_000);
    running!.child.kill('SIGINT');
    expect(await running!.exited).toBe(0);
    running = await serve();
    const { bars: served, watermark } = await bars(running.url, since);
    expect(Date.parse(watermark)).toBeGreaterThanOrEqual(firstWatermark);
    const starts = served.map((b) => Date.parse(b.ts));
    // Around the clock every minute trades: one bar per minute, none missing, none twice.
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBe(MINUTE);
    expect(served.every((b) => b.tradeCount > 0)).toBe(true);
    running.child.kill('SIGINT');
    expect(await running.exited).toBe(0);
    running = undefined;
  });
});
