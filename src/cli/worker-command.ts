import { Command, Option } from 'commander';
import { createPlatform } from '../app.js';
import { loadConfig, profileSummary } from '../config/index.js';

/**
 * `alphalake worker`: a job worker alone. It runs the scheduled maintenance (compaction,
 * vacuum, checkpoints) and the jobs that mutations enqueue (backfills, retraining), over
 * the job store of the profile: several workers share MongoDB (MONGODB_URI), each job
 * run by one of them; the embedded store is one process's, so with it run either
 * `alphalake serve` (whose worker is in-process) or one `alphalake worker`, not both.
 */
export function workerCommand(): Command {
  return new Command('worker')
    .description(
      'Run a job worker alone: scheduled lake maintenance (JOBS_*_CRON) and the jobs mutations enqueue (backfill, compact, vacuum, retrain), with retries and locks. Several workers share MONGODB_URI; the embedded job store (ALPHALAKE_HOME/jobs) takes one process.',
    )
    .addOption(
      new Option('--home <dir>', 'data folder (embedded lake and job store) (ALPHALAKE_HOME)'),
    )
    .action(async (flags: { home?: string }) => {
      const config = loadConfig({
        ...process.env,
        ...(flags.home ? { ALPHALAKE_HOME: flags.home } : {}),
      });
      const platform = await createPlatform(config, { jobStore: true });
      await platform.startJobWorker();
      console.log(`alphalake: job worker running; ${profileSummary(config.profile)}`);
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        console.log(`alphalake: ${signal}, stopping the job worker (running jobs are unlocked)…`);
        await platform.stop();
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown('SIGINT'));
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
    });
}
