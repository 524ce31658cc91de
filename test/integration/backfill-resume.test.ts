import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMedallion } from '../../src/batch/index.js';
import { localObjectStore } from '../../src/lake/index.js';
import { writePolygonTradesFile, type PolygonFixture } from '../support/polygon-fixture.js';
import { expectTradesExactlyOnce } from '../support/trades-oracle.js';

/**
 * Issue 10's resumable backfill: `alphalake backfill --source file` killed with SIGKILL at
 * KILLS random moments and restarted each time ends with every row of the file in the
 * lake exactly once (valid trades in bronze.trades, the rest in bronze.rejects), and the
 * last run reports the rows it skipped as already committed. Bad input fails with a
 * clear message, a non-zero exit and no rows written.
 */
const ROWS = Number(process.env.ALPHALAKE_BACKFILL_ROWS ?? 400_000);
const KILLS = 5;
const CLI = path.resolve('dist/src/cli/main.js');
const run = promisify(execFile);

describe('alphalake backfill --source file', () => {
  let dir = '';
  let file = '';
  let fixture: PolygonFixture;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'alphalake-backfill-'));
    file = path.join(dir, 'trades_v1.csv');
    fixture = await writePolygonTradesFile(file, ROWS, 42);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const env = (home: string) => ({ PATH: process.env.PATH ?? '', ALPHALAKE_HOME: home });

  it(`holds every row of ${ROWS} exactly once after ${KILLS} SIGKILLs and restarts`, async () => {
    const home = path.join(dir, 'home-kill');
    const tables = async () => openMedallion(localObjectStore(path.join(home, 'lake')));
    const held: number[] = [];
    const log = path.join(home, 'lake', 'bronze', 'trades', '_delta_log');
    /** Commits of bronze.trades that hold backfill chunks (their txn names the job). */
    const chunkCommits = async () => {
      const names = await readdir(log).catch(() => [] as string[]);
      let count = 0;
      for (const name of names.filter((n) => n.endsWith('.json'))) {
        if ((await readFile(path.join(log, name), 'utf8')).includes('"appId":"backfill:')) count++;
      }
      return count;
    };
    for (let kill = 0; kill < KILLS; kill++) {
      const child = spawn(process.execPath, [CLI, 'backfill', '--source', 'file', '--path', file], {
        env: env(home),
        stdio: 'ignore',
      });
      let exited = false;
      const exit = new Promise<void>((resolve) =>
        child.once('exit', () => {
          exited = true;
          resolve();
        }),
      );
      // Killed mid-stream: once this run has committed a chunk of its own, at a random
      // moment of the next one (a chunk takes a second or more here).
      const before = await chunkCommits();
      while (!exited && (await chunkCommits()) === before) await sleep(50);
      await sleep(Math.random() * 1_500);
      child.kill('SIGKILL');
      await exit;
      const { trades } = await tables();
      held.push((await trades.query({ columns: ['id'] })).rows.length);
    }
    const { stdout, stderr } = await run(
      process.execPath,
      [CLI, 'backfill', '--source', 'file', '--path', file],
      { env: env(home), maxBuffer: 16 * 1024 * 1024 },
    );
    const summary = stdout.trim().split('\n').at(-1) ?? '';
    const skipped = Number(/\((\d+) skipped as already committed\)/.exec(summary)?.[1]);
    expect(summary, stderr).toMatch(
      new RegExp(`^alphalake: backfill file:trades_v1.csv: ${ROWS} rows read`),
    );
    // The final run resumes at a chunk boundary (50k rows) the lake had committed, or at the
    // end; it skipped something whenever the kills left trades in the lake.
    expect(skipped % 50_000 === 0 || skipped === ROWS).toBe(true);
    // Kills landed mid-stream: some left part of the file committed.
    expect(held.some((count) => count > 0 && count < fixture.valid.length)).toBe(true);
    if (held.at(-1)! > 0) expect(skipped).toBeGreaterThan(0);
    else expect(skipped).toBe(0);
    console.log(
      `rows held after each SIGKILL: ${held.join(', ')} of ${ROWS}; final run skipped ${skipped}`,
    );

    const medallion = await tables();
    await expectTradesExactlyOnce(medallion.trades, fixture.valid);
    const rejects = await medallion.rejects.query({ columns: ['reason', 'payload'] });
    expect(rejects.rows.map((r) => `${String(r.reason)} ${String(r.payload)}`).sort()).toEqual(
      fixture.rejects.map((r) => `${r.reason} ${r.line}`).sort(),
    );
  }, 600_000);

  it.each([
    ['a missing file', ['--path', 'nowhere.csv'], /NOT_FOUND: nowhere\.csv: no such file/],
    ['an unknown format', ['--path', 'FILE', '--format', 'xlsx'], /xlsx/],
    [
      'a bad date range',
      ['--path', 'FILE', '--from', '2024-03-29', '--to', '2024-03-28'],
      /BAD_USER_INPUT: bad date range/,
    ],
    [
      'an unreadable date',
      ['--path', 'FILE', '--from', 'yesterday'],
      /--from "yesterday" is not an ISO-8601/,
    ],
    ['a file of no known layout', ['--path', 'HEADER'], /matches no known layout/],
    ['an unreadable (corrupt gzip) file', ['--path', 'CORRUPT'], /broken\.csv\.gz: cannot be read/],
    ['a folder without data files', ['--path', 'EMPTY'], /holds no \.csv/],
  ])(
    'refuses %s with a clear error, a non-zero exit and nothing written',
    async (_name, args, pattern) => {
      const home = path.join(dir, `home-bad-${Math.random().toString(36).slice(2)}`);
      const header = path.join(dir, 'other.csv');
      await writeFile(header, 'a,b,c\n1,2,3\n');
      const corrupt = path.join(dir, 'broken.csv.gz');
      await writeFile(corrupt, Buffer.from([0x1f, 0x8b, 0x08, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
      const empty = path.join(dir, 'empty-folder');
      await mkdir(empty, { recursive: true });
      const argv = args.map((a) =>
        a === 'FILE'
          ? file
          : a === 'HEADER'
            ? header
            : a === 'CORRUPT'
              ? corrupt
              : a === 'EMPTY'
                ? empty
                : a,
      );
      const result = await run(process.execPath, [CLI, 'backfill', '--source', 'file', ...argv], {
        env: env(home),
        cwd: dir,
      }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(pattern);
      // Refused before the lake was opened: not even an empty table was created.
      expect(existsSync(path.join(home, 'lake'))).toBe(false);
    },
  );
});
