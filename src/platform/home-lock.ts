import { randomUUID } from 'node:crypto';
import { link, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AlphalakeError } from '../domain/index.js';

/**
 * The lock file of a folder under ALPHALAKE_HOME that one process at a time may write:
 * the embedded master data (`mdm/mdm.lock`, held per operation), the embedded job store
 * (`jobs/LOCK`, held while connected) and the user store (`auth/users.json.lock`, held per
 * change). One implementation, so the three keep one set of rules:
 *
 * - **Created whole, pid inside.** The holder's pid is written to a claim file of its own,
 *   then hard-linked to the lock's name; link(2) is atomic and never replaces an existing
 *   name, so the lock appears with its pid already in it. (Opening the lock with O_EXCL and
 *   then writing the pid left an empty lock behind when a process was killed in between,
 *   and nobody could tell whose it was.)
 * - **A dead holder is taken over.** A lock whose pid is no process, or is this process's
 *   own pid while no lock of this process holds it (a container restarted under the same
 *   pid), is stale. A lock without a readable pid (an older version's, cut short) is stale
 *   once it is UNREADABLE_STALE_MS old. Taking over happens under a second lock
 *   (`<lock>.takeover`, made the same way) and re-reads the lock first, so two processes
 *   that both saw the same dead holder cannot both remove it, the second one removing the
 *   first one's fresh lock.
 * - **A live holder is waited for**, up to `waitMs` (0: not at all), then refused with
 *   HOME_LOCKED naming its pid.
 */

/** A lock without a readable pid older than this is taken over. */
export const UNREADABLE_STALE_MS = 5_000;

export interface HomeLockOptions {
  /** What the lock guards, as HOME_LOCKED's message names it: `the master data in /home/mdm`. */
  readonly guards: string;
  /** How long to wait for a live holder before HOME_LOCKED. @default 0 (refuse at once) */
  readonly waitMs?: number;
  /** How often a waiting process looks again. @default 5 */
  readonly pollMs?: number;
  /** What to do about a live holder, appended to HOME_LOCKED's message. @default 'stop that process' */
  readonly advice?: string;
  readonly signal?: AbortSignal;
}

/** A lock this process holds; `release` removes it (once; later calls do nothing). */
export interface HomeLock {
  readonly file: string;
  release(): Promise<void>;
}

/** Lock files held by this process: a lock naming our pid that is not here is stale. */
const held = new Set<string>();

/** Takes the lock file `file` (see the module's comment), waiting for a live holder up to `waitMs`. */
export async function takeHomeLock(file: string, options: HomeLockOptions): Promise<HomeLock> {
  const lock = path.resolve(file);
  const waitMs = options.waitMs ?? 0;
  const deadline = Date.now() + waitMs;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await linkWhole(lock)) return holding(lock);
    const holder = await holderOf(lock);
    if (holder.stale) {
      await takeOver(lock, holder.content);
      continue;
    }
    if (Date.now() >= deadline) {
      const waited = waitMs > 0 ? `, which has held it over ${waitMs / 1000} s` : '';
      throw new AlphalakeError(
        'HOME_LOCKED',
        `${options.guards} is locked by ${holder.pid === process.pid ? 'this process' : `process ${holder.pid ?? '?'}`}${waited}: ${options.advice ?? 'stop that process'} (or remove ${lock} if no such process runs)`,
        { folder: path.dirname(lock), lock, pid: holder.pid ?? null },
      );
    }
    // Aborted while waiting: the signal's own reason, as from every other long call.
    await sleep(options.pollMs ?? 5, undefined, { signal: options.signal }).catch(() =>
      options.signal?.throwIfAborted(),
    );
  }
}

/** Runs `work` holding the lock, and releases it whatever `work` does. */
export async function withHomeLock<T>(
  file: string,
  options: HomeLockOptions,
  work: () => Promise<T>,
): Promise<T> {
  const lock = await takeHomeLock(file, options);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}

function holding(lock: string): HomeLock {
  held.add(lock);
  let released = false;
  return {
    file: lock,
    async release() {
      if (released) return;
      released = true;
      held.delete(lock);
      await rm(lock, { force: true });
    },
  };
}

/** Creates `lock` with this process's pid in it, in one step: false when it exists. */
async function linkWhole(lock: string): Promise<boolean> {
  const claim = `${lock}.${process.pid}.${randomUUID()}`;
  await writeFile(claim, String(process.pid));
  try {
    await link(claim, lock);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(claim, { force: true });
  }
}

interface Holder {
  /** The lock's text as read (undefined: it was gone), to check it is unchanged before removal. */
  readonly content: string | undefined;
  readonly pid: number | undefined;
  readonly stale: boolean;
}

async function holderOf(lock: string): Promise<Holder> {
  const content = await readFile(lock, 'utf8').catch(() => undefined);
  if (content === undefined) return { content, pid: undefined, stale: false }; // gone: try again
  const pid = Number(content.trim());
  if (Number.isInteger(pid) && pid > 0) {
    const stale = pid === process.pid ? !held.has(lock) : !isAlive(pid);
    return { content, pid, stale };
  }
  // No pid: a lock is always created whole, so this is an older version's, cut short.
  const age = Date.now() - ((await stat(lock).catch(() => undefined))?.mtimeMs ?? Date.now());
  return { content, pid: undefined, stale: age > UNREADABLE_STALE_MS };
}

/**
 * Removes the stale lock `lock`, if it still holds `content`, under `<lock>.takeover`; a
 * takeover lock whose own holder died is removed first. Whoever does not get the takeover
 * lock simply tries again (the lock is then gone, or fresh and live).
 */
async function takeOver(lock: string, content: string | undefined): Promise<void> {
  const guard = `${lock}.takeover`;
  if (!(await linkWhole(guard))) {
    const guardHolder = await holderOf(guard);
    if (guardHolder.stale) await rm(guard, { force: true });
    else await sleep(1);
    return;
  }
  held.add(guard);
  try {
    // Still the same stale lock? (Another process may have taken it over and holds it now.)
    const now = await holderOf(lock);
    if (now.stale && now.content === content) await rm(lock, { force: true });
  } finally {
    held.delete(guard);
    await rm(guard, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
