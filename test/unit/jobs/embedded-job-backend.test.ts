import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedJobBackend } from '../../../src/jobs/index.js';
import { jobBackendContract, type JobBackendFactory } from '../../contracts/job-backend.js';

const BACKENDS: JobBackendFactory[] = [
  {
    name: 'embedded (nedb under ALPHALAKE_HOME)',
    shared: false,
    async location() {
      const folder = mkdtempSync(path.join(os.tmpdir(), 'alphalake-jobs-'));
      return {
        open: () => new EmbeddedJobBackend(path.join(folder, 'jobs')),
        dispose: async () => rmSync(folder, { recursive: true, force: true }),
      };
    },
  },
];

jobBackendContract(BACKENDS);

describe('embedded job store lock', () => {
  it('refuses a folder held by a live process and takes over a dead one', async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'alphalake-jobs-'));
    try {
      const jobs = path.join(folder, 'jobs');
      const first = new EmbeddedJobBackend(jobs);
      await first.connect();
      // Another live process (our parent) holds it: refused with HOME_LOCKED, naming its pid.
      await first.disconnect();
      writeFileSync(path.join(jobs, 'LOCK'), String(process.ppid));
      await expect(new EmbeddedJobBackend(jobs).connect()).rejects.toMatchObject({
        code: 'HOME_LOCKED',
        details: { pid: process.ppid },
      });
      // A pid that cannot be alive (above pid_max): taken over.
      writeFileSync(path.join(jobs, 'LOCK'), String(2 ** 31 - 1));
      const second = new EmbeddedJobBackend(jobs);
      await second.connect();
      await second.disconnect();
      // Our own pid, held by no backend here (a container restarted under the same pid).
      writeFileSync(path.join(jobs, 'LOCK'), String(process.pid));
      const third = new EmbeddedJobBackend(jobs);
      await third.connect();
      await expect(new EmbeddedJobBackend(jobs).connect()).rejects.toMatchObject({
        code: 'HOME_LOCKED',
      });
      await third.disconnect();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('embedded job history', () => {
  it('keeps the logged order of events within one millisecond, across a reconnect', async () => {
    // Agenda often logs `success` and `complete` in the same millisecond; the store's
    // own order (by _id) is random, so only the order of logging can tell them apart.
    const folder = mkdtempSync(path.join(os.tmpdir(), 'alphalake-jobs-'));
    const timestamp = new Date('2026-12-01T10:00:00.000Z');
    const lifecycle = ['locked', 'start', 'success', 'complete'] as const;
    const logAll = async (backend: EmbeddedJobBackend, jobId: string) => {
      for (const event of lifecycle)
        await backend.logger.log({
          timestamp,
          level: 'info',
          event,
          jobId,
          jobName: 'backfill',
          message: event,
        });
    };
    try {
      const jobs = path.join(folder, 'jobs');
      const first = new EmbeddedJobBackend(jobs);
      await first.connect();
      for (let run = 0; run < 20; run++) await logAll(first, `first-${run}`);
      await first.disconnect();
      const again = new EmbeddedJobBackend(jobs);
      await again.connect();
      await logAll(again, 'after-reconnect');
      for (const jobId of ['first-0', 'first-19', 'after-reconnect']) {
        const asc = await again.logger.getLogs({ jobId, sort: 'asc' });
        expect(asc.entries.map((e) => e.event)).toEqual([...lifecycle]);
        expect(asc.entries.every((e) => !('seq' in e))).toBe(true);
        const desc = await again.logger.getLogs({ jobId });
        expect(desc.entries.map((e) => e.event)).toEqual([...lifecycle].reverse());
      }
      const all = await again.logger.getLogs({ jobName: 'backfill', sort: 'asc', limit: 100 });
      expect(all.entries.slice(-4).map((e) => e.jobId)).toEqual(
        lifecycle.map(() => 'after-reconnect'),
      );
      await again.disconnect();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
