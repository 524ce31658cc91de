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
