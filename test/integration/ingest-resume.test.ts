import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMedallion } from '../../src/batch/index.js';
import { localObjectStore } from '../../src/lake/index.js';
import {
  minuteAggsRows,
  minuteAggsText,
  writePolygonTradesFile,
  type PolygonFixture,
} from '../support/polygon-fixture.js';
import { expectTradesExactlyOnce } from '../support/trades-oracle.js';

/**
 * Issue 10 (lakebars): `alphalake ingest --source file` in the embedded profile (the
 * in-process bus and the lake sink in one process) over a folder of two daily files,
 * killed with SIGKILL at KILLS random moments and restarted each time, ends with every row
 * exactly once: each valid trade once in bronze.trades (count and id set, every field),
 * each bar once in bronze.vendor_bars, each bad row once in bronze.rejects. The first file
 * is complete before the first kill; its data rows are then overwritten (same size, same
 * header), so a run that read it again would reject its rows as malformed: none is.
 */
const ROWS = Number(process.env.ALPHALAKE_INGEST_RESUME_ROWS ?? 300_000);
const KILLS = 3;
const CLI = path.resolve('dist/src/cli/main.js');
const run = promisify(execFile);

describe('alphalake ingest --source file, resumed after SIGKILL', () => {
  let dir = '';
  let folder = '';
  let fixture: PolygonFixture;
  const bars = minuteAggsRows(60);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'alphalake-ingest-resume-'));
    folder = path.join(dir, 'flatfiles');
    await mkdir(folder);
    // Read in name order: the bars file first, then the trades.
    await writeFile(path.join(folder, 'a-minute_aggs.csv'), minuteAggsText(bars));
    fixture = await writePolygonTradesFile(path.join(folder, 'b-trades.csv'), ROWS, 7);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`holds every row exactly once after ${KILLS} SIGKILLs and restarts, and reads no completed file again`, async () => {
    const home = path.join(dir, 'home');
    const env = { PATH: process.env.PATH ?? '', ALPHALAKE_HOME: home, NODE_ENV: '' };
    const args = [CLI, 'ingest', '--source', 'file', '--path', folder];
    const log = path.join(home, 'lake', 'bronze', 'trades', '_delta_log');
    /** Commits of bronze.trades that carry a chunk of the trades file's ingest job. */
    const chunkCommits = async () => {
      const names = await readdir(log).catch(() => [] as string[]);
      let count = 0;
      for (const name of names.filter((n) => n.endsWith('.json'))) {
        if (
          (await readFile(path.join(log, name), 'utf8')).includes('"appId":"ingest:b-trades.csv:')
        )
          count++;
      }
      return count;
    };
    const tables = () => openMedallion(localObjectStore(path.join(home, 'lake')));
    const held: number[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const child = spawn(process.execPath, args, { env, stdio: 'ignore' });
      let exited = false;
      const exit = new Promise<void>((resolve) =>
        child.once('exit', () => {
          exited = true;
          resolve();
        }),
      );
      // Killed mid-stream: once this run has committed a chunk of its own, at a random
      // moment of the next one.
      const before = await chunkCommits();
      while (!exited && (await chunkCommits()) === before) await sleep(50);
      await sleep(Math.random() * 1_500);
      child.kill('SIGKILL');
      await exit;
      const { trades } = await tables();
      held.push((await trades.query({ columns: ['id'] })).rows.length);
      if (kill === 0) {
        // The bars file is complete by now (it is read first): overwrite its rows.
        const text = await readFile(path.join(folder, 'a-minute_aggs.csv'), 'utf8');
        const [header, ...rest] = text.split('\n');
        await writeFile(
          path.join(folder, 'a-minute_aggs.csv'),
          [header, ...rest.map((line) => line.replace(/[0-9]/g, 'x'))].join('\n'),
        );
      }
    }
    const { stdout, stderr } = await run(process.execPath, args, {
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
    const summary = stdout.trim().split('\n').at(-1) ?? '';
    const skipped = Number(/\((\d+) skipped as already committed\)/.exec(summary)?.[1]);
    const total = ROWS + bars.rows.length + 1;
    expect(summary, stderr).toMatch(new RegExp(`: ${total} rows read \\(`));
    // The bars file whole, and the trades file up to a 50k chunk boundary (or its end).
    const inTrades = skipped - (bars.rows.length + 1);
    expect(inTrades % 50_000 === 0 || inTrades === ROWS, summary).toBe(true);
    expect(held.some((count) => count > 0 && count < fixture.valid.length)).toBe(true);
    console.log(
      `trades held after each SIGKILL: ${held.join(', ')} of ${fixture.valid.length}; final run: ${summary}`,
    );

    const medallion = await tables();
    await expectTradesExactlyOnce(medallion.trades, fixture.valid);

    const vendorBars = await medallion.vendorBars.query({ columns: ['symbol', 'ts', 'open'] });
    expect(vendorBars.rows.length).toBe(bars.rows.length);
    const rejects = await medallion.rejects.query({ columns: ['source', 'reason', 'payload'] });
    const fromFiles = rejects.rows
      .filter((r) => String(r.source).startsWith('file:'))
      .map((r) => `${String(r.reason)} ${String(r.payload)}`)
      .sort();
    expect(fromFiles).toEqual(
      [
        `BAR_INCONSISTENT ${bars.bad.join(',')}`,
        ...fixture.rejects.map((r) => `${r.reason} ${r.line}`),
      ].sort(),
    );
  }, 600_000);
});
