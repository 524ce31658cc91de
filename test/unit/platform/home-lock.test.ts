/**
 * The one lock-file module under ALPHALAKE_HOME (src/platform/home-lock.ts), used by the
 * embedded master data, the embedded job store and the user store: created whole with the
 * holder's pid, a dead holder taken over, a live one waited for and then HOME_LOCKED
 * naming its pid, and mutual exclusion between real processes racing for one lock.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { takeHomeLock, withHomeLock } from '../../../src/platform/index.js';

const root = mkdtempSync(path.join(tmpdir(), 'alphalake-home-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A lock file in a folder of its own. */
function lockFile(): string {
  return path.join(mkdtempSync(path.join(root, 'case-')), 'LOCK');
}

/** A pid above Linux's pid_max (2^22): no process has it. */
const DEAD_PID = 2 ** 31 - 1;

describe('home lock', () => {
  it('is created whole with our pid, and gone once released', async () => {
    const file = lockFile();
    const lock = await takeHomeLock(file, { guards: 'the test folder' });
    expect(readFileSync(file, 'utf8')).toBe(String(process.pid));
    await lock.release();
    expect(existsSync(file)).toBe(false);
    await lock.release(); // a second release does nothing
  });

  it('refuses a live holder with HOME_LOCKED naming its pid', async () => {
    const file = lockFile();
    // Our parent is alive and is not this process.
    writeFileSync(file, String(process.ppid));
    await expect(takeHomeLock(file, { guards: 'the test folder' })).rejects.toMatchObject({
      code: 'HOME_LOCKED',
      details: { pid: process.ppid, lock: path.resolve(file) },
      message: expect.stringContaining(`the test folder is locked by process ${process.ppid}`),
    });
    // It stays the holder's.
    expect(readFileSync(file, 'utf8')).toBe(String(process.ppid));
  });

  it('takes over the lock of a process that died', async () => {
    const file = lockFile();
    writeFileSync(file, String(DEAD_PID));
    const lock = await takeHomeLock(file, { guards: 'the test folder' });
    expect(readFileSync(file, 'utf8')).toBe(String(process.pid));
    await lock.release();
  });

  it('takes over our own pid held by no lock of this process (a restart under the same pid), and refuses it while held', async () => {
    const file = lockFile();
    writeFileSync(file, String(process.pid));
    const lock = await takeHomeLock(file, { guards: 'the test folder' });
    await expect(takeHomeLock(file, { guards: 'the test folder' })).rejects.toMatchObject({
      code: 'HOME_LOCKED',
      details: { pid: process.pid },
      message: expect.stringContaining('locked by this process'),
    });
    await lock.release();
  });

  it('waits for a holder of this process to release it', async () => {
    const file = lockFile();
    const order: string[] = [];
    const first = await takeHomeLock(file, { guards: 'the test folder' });
    const second = withHomeLock(file, { guards: 'the test folder', waitMs: 60_000 }, async () => {
      order.push('second');
    });
    order.push('first');
    await first.release();
    await second;
    expect(order).toEqual(['first', 'second']);
  });

  it('takes over a lock without a pid only once it is old', async () => {
    const file = lockFile();
    writeFileSync(file, '');
    await expect(takeHomeLock(file, { guards: 'the test folder' })).rejects.toMatchObject({
      code: 'HOME_LOCKED',
      details: { pid: null },
    });
    const minuteAgo = new Date(Date.now() - 60_000);
    utimesSync(file, minuteAgo, minuteAgo);
    const lock = await takeHomeLock(file, { guards: 'the test folder' });
    expect(readFileSync(file, 'utf8')).toBe(String(process.pid));
    await lock.release();
  });

  it('stops waiting when the signal aborts', async () => {
    const file = lockFile();
    writeFileSync(file, String(process.ppid));
    const abort = new AbortController();
    const waiting = takeHomeLock(file, {
      guards: 'the test folder',
      waitMs: 600_000,
      signal: abort.signal,
    });
    abort.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
  });

  it('lets one process at a time in, among processes racing for a dead holder’s lock', async () => {
    const file = lockFile();
    const inside = `${file}.inside`;
    const log = `${file}.log`;
    writeFileSync(file, String(DEAD_PID));
    const PROCESSES = 6;
    const ROUNDS = 15;
    const platform = new URL('../../../src/platform/index.js', import.meta.url).href;
    // Each child enters ROUNDS times; inside, it claims a marker file exclusively (a second
    // process inside at once finds it taken) and logs its pid.
    const script = `
      import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
      const { withHomeLock } = await import(${JSON.stringify(platform)});
      for (let round = 0; round < ${ROUNDS}; round++) {
        await withHomeLock(${JSON.stringify(file)}, { guards: 'the race', waitMs: 120000, pollMs: 1 }, async () => {
          try {
            writeFileSync(${JSON.stringify(inside)}, String(process.pid), { flag: 'wx' });
          } catch {
            appendFileSync(${JSON.stringify(log)}, 'overlap ' + process.pid + '\\n');
            return;
          }
          appendFileSync(${JSON.stringify(log)}, 'in ' + process.pid + '\\n');
          await new Promise((resolve) => setImmediate(resolve));
          rmSync(${JSON.stringify(inside)});
        });
      }
    `;
    const exits = await Promise.all(
      Array.from(
        { length: PROCESSES },
        () =>
          new Promise<number | null>((resolve) => {
            const node = spawn(process.execPath, ['--input-type=module', '-e', script], {
              stdio: ['ignore', 'inherit', 'inherit'],
            });
            node.once('exit', (code) => resolve(code));
          }),
      ),
    );
    expect(exits).toEqual(Array.from({ length: PROCESSES }, () => 0));
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.filter((line) => line.startsWith('overlap'))).toEqual([]);
    expect(lines).toHaveLength(PROCESSES * ROUNDS);
    expect(existsSync(file)).toBe(false);
  }, 180_000);
});
