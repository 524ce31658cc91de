/**
 * The `job.enqueue` audit outbox (docs/jobs.md "Audit") under a real kill, on every job
 * store with its master-data store: a child process enqueues jobs the way a mutation does
 * (JobService.enqueueAudited, the audit log wired as src/app.ts wires it) and is killed
 * with SIGKILL (no handler runs, nothing is flushed) right after the job's write, right
 * after the record reached the log, or anywhere in a run of enqueues. Opened again, every
 * job has exactly one `job.enqueue` record, and no record names a job that is not there.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { jobAuditOf } from '../../src/app.js';
import { ManualClock } from '../../src/domain/index.js';
import { JobService, type JobAuditLog, type JobBackend } from '../../src/jobs/index.js';
import { MasterData, type MasterDataStore } from '../../src/mdm/index.js';

export interface JobAuditBackend {
  readonly name: string;
  /**
   * An ES-module snippet, run in the child, that defines `const jobBackend` (not yet
   * connected) and `const mdmStore` of `namespace`; it may import `urls.jobs` and `urls.mdm`.
   */
  openInChild(namespace: string, urls: { readonly jobs: string; readonly mdm: string }): string;
  /** The same stores in this process (the job store not yet connected). */
  open(namespace: string): Promise<{ jobBackend: JobBackend; mdmStore: MasterDataStore }>;
  dispose?(): Promise<void>;
}

const URLS = {
  jobs: new URL('../../src/jobs/index.js', import.meta.url).href,
  mdm: new URL('../../src/mdm/index.js', import.meta.url).href,
  app: new URL('../../src/app.js', import.meta.url).href,
};
const T0 = Date.parse('2026-12-01T10:00:00Z') * 1_000;
const CATALOG = { tables: ['bronze.trades'], backfillSources: [] };

/** Runs `script` (an ES module) in a child Node; each stdout line goes to `onLine`. */
function child(
  script: string,
  onLine: (line: string, kill: () => void) => void = () => undefined,
): Promise<NodeJS.Signals | null> {
  const node = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const kill = () => node.kill('SIGKILL');
  createInterface({ input: node.stdout }).on('line', (line) => onLine(line, kill));
  return new Promise((resolve) => node.once('exit', (_code, signal) => resolve(signal)));
}

/** The child's prelude: the stores, master data, and `service` with `audit` as its log. */
function prelude(backend: JobAuditBackend, namespace: string, audit: string): string {
  return `
    ${backend.openInChild(namespace, URLS)}
    const { JobService } = await import(${JSON.stringify(URLS.jobs)});
    const { MasterData } = await import(${JSON.stringify(URLS.mdm)});
    const { jobAuditOf } = await import(${JSON.stringify(URLS.app)});
    await jobBackend.connect();
    const masterData = await MasterData.open(mdmStore, { clock: { now: () => ${T0} } });
    const wired = jobAuditOf(masterData);
    const service = new JobService(jobBackend, ${JSON.stringify(CATALOG)},
      { pollMs: 50, now: () => ${T0}, audit: ${audit} });
  `;
}

export function jobAuditOutboxContract(backends: readonly JobAuditBackend[]): void {
  for (const backend of backends) {
    describe(`job.enqueue audit outbox: ${backend.name}`, () => {
      const toClose: (() => Promise<unknown>)[] = [];
      afterAll(async () => {
        for (const close of toClose) await close().catch(() => undefined);
        await backend.dispose?.();
      });

      /** The stores again, as a restarted process opens them (the job store connected). */
      const reopen = async (namespace: string, audit?: (masterData: MasterData) => JobAuditLog) => {
        const { jobBackend, mdmStore } = await backend.open(namespace);
        await jobBackend.connect();
        toClose.push(
          () => jobBackend.disconnect(),
          () => mdmStore.close(),
        );
        const masterData = await MasterData.open(mdmStore, { clock: new ManualClock(T0) });
        const service = new JobService(jobBackend, CATALOG, {
          pollMs: 50,
          now: () => T0,
          audit: (audit ?? jobAuditOf)(masterData),
        });
        return { jobBackend, masterData, service };
      };

      /** Every job with its `job.enqueue` records, and the records that name no job. */
      const ledger = async (service: JobService, masterData: MasterData) => {
        const { jobs } = await service.list({ limit: 500 });
        const log = (await masterData.auditLog()).filter((r) => r.action === 'job.enqueue');
        const ids = new Set(jobs.map((j) => j.id));
        return {
          jobs,
          recordsOf: (id: string) => log.filter((r) => r.entity === id),
          orphans: log.filter((r) => !ids.has(r.entity)),
        };
      };

      it('killed right after the job is written, before its record moves: the next drain records it, once', async () => {
        const namespace = `written_${Date.now().toString(36)}`;
        const signal = await child(`
          ${prelude(backend, namespace, "{ record: async () => process.kill(process.pid, 'SIGKILL') }")}
          await service.enqueueAudited('retrain', { model: 'lstm' }, 'ada');
        `);
        expect(signal).toBe('SIGKILL');
        const { jobBackend, masterData, service } = await reopen(namespace);
        const [pending] = await jobBackend.jobsWithPendingAudit();
        expect(pending).toBeDefined();
        // Not in the log yet (MasterData.open drained only its own outbox).
        expect((await masterData.auditLog()).filter((r) => r.action === 'job.enqueue')).toEqual([]);
        expect(await service.drainAudit()).toBe(1);
        expect(await service.drainAudit()).toBe(0);
        const { jobs, recordsOf, orphans } = await ledger(service, masterData);
        expect(jobs.map((j) => [j.kind, j.request, j.requestedBy])).toEqual([
          ['retrain', { model: 'lstm' }, 'ada'],
        ]);
        const records = recordsOf(jobs[0]!.id);
        expect(records.map((r) => [r.actor, r.at, r.before, r.after])).toEqual([
          ['ada', T0, null, { kind: 'retrain', model: 'lstm' }],
        ]);
        expect(orphans).toEqual([]);
      });

      it('killed after the record reached the log and before it left the job: the next drain adds nothing', async () => {
        const namespace = `recorded_${Date.now().toString(36)}`;
        const signal = await child(`
          ${prelude(
            backend,
            namespace,
            "{ record: async (audit) => { await wired.record(audit); process.kill(process.pid, 'SIGKILL'); } }",
          )}
          await service.enqueueAudited('compact', { table: 'bronze.trades' }, 'grace');
        `);
        expect(signal).toBe('SIGKILL');
        const { jobBackend, masterData, service } = await reopen(namespace);
        expect(await jobBackend.jobsWithPendingAudit()).toHaveLength(1);
        expect(await service.drainAudit()).toBe(1);
        expect(await jobBackend.jobsWithPendingAudit()).toEqual([]);
        const { jobs, recordsOf, orphans } = await ledger(service, masterData);
        expect(jobs).toHaveLength(1);
        expect(recordsOf(jobs[0]!.id).map((r) => [r.actor, r.after])).toEqual([
          ['grace', { kind: 'compact', table: 'bronze.trades' }],
        ]);
        expect(orphans).toEqual([]);
      });

      it('killed anywhere in a run of enqueues: every job has exactly one record, and every record a job', async () => {
        const namespace = `run_${Date.now().toString(36)}`;
        let seen = 0;
        const signal = await child(
          `
          ${prelude(backend, namespace, 'wired')}
          for (let i = 0; ; i++) {
            const job = await service.enqueueAudited('retrain', { model: 'm' + i }, 'ada');
            console.log(job.id);
          }
        `,
          (_line, kill) => {
            // Killed while it enqueues on, between whichever two steps the timing lands on.
            if (++seen === 30) kill();
          },
        );
        expect(signal).toBe('SIGKILL');
        const { masterData, service } = await reopen(namespace);
        await service.drainAudit();
        const { jobs, recordsOf, orphans } = await ledger(service, masterData);
        expect(jobs.length).toBeGreaterThanOrEqual(30);
        for (const job of jobs) {
          expect(recordsOf(job.id).map((r) => [r.actor, r.after])).toEqual([
            ['ada', { kind: 'retrain', ...job.request }],
          ]);
        }
        expect(orphans).toEqual([]);
      });

      it('a record the log refused at enqueue stays with the job, and is recorded before the job is cancelled', async () => {
        const namespace = `cancel_${Date.now().toString(36)}`;
        let logDown = true;
        const { jobBackend, masterData, service } = await reopen(namespace, (md) => ({
          record: async (audit) => {
            if (logDown) throw new Error('audit log unreachable');
            await jobAuditOf(md).record(audit);
          },
        }));
        const job = await service.enqueueAudited('retrain', { model: 'lstm' }, 'ada');
        // The job stands (the mutation answers its id); its record waits in its data, not
        // in the request the API shows.
        expect(job).toMatchObject({ kind: 'retrain', requestedBy: 'ada' });
        expect(job.request).toEqual({ model: 'lstm' });
        expect((await service.get(job.id))?.request).toEqual({ model: 'lstm' });
        expect(await jobBackend.jobsWithPendingAudit()).toHaveLength(1);
        // A cancel while the log is still down fails, and keeps the job with its record.
        await expect(service.cancel(job.id)).rejects.toThrow('audit log unreachable');
        expect(await service.get(job.id)).toBeDefined();
        logDown = false;
        expect(await service.cancel(job.id)).toBe(true);
        expect(await service.get(job.id)).toBeUndefined();
        const log = (await masterData.auditLog({ entity: job.id })).map((r) => [r.action, r.actor]);
        expect(log).toEqual([['job.enqueue', 'ada']]);
      });
    });
  }
}
