import { spawn, type ChildProcess } from 'node:child_process';

/** Stops child processes with SIGTERM (they flush and exit) and waits until each has exited. */
export async function stopChildren(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
}

/**
 * Starts `node cli ...args` with `env`, its stdout and stderr kept in `log` (to show when an
 * assertion fails); `exited` resolves with its exit code, -1 when a signal ended it.
 */
export function spawnCli(
  cli: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  log: string[],
): { process: ChildProcess; exited: Promise<number> } {
  const started = spawn(process.execPath, [cli, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.stdout!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  started.stderr!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  const exited = new Promise<number>((resolve) =>
    started.once('exit', (code) => resolve(code ?? -1)),
  );
  return { process: started, exited };
}
