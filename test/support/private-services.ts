import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../services/endpoints.js';

const run = promisify(execFile);

/** A port nothing listens on now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export type PrivateServerName = 'kafka' | 'cassandra';

/**
 * A server of the services tier's own, for a test that stops it: scripts/services run
 * with an ALPHALAKE_SERVICES_HOME of the test's and free ports, so the shared servers
 * (which no test may stop) are never touched. The jars come from the shared services
 * home's cache; data, logs and pid files are private and removed by `remove`.
 */
export interface PrivateServer {
  readonly name: PrivateServerName;
  /** `host:port` clients connect to. */
  readonly address: string;
  /** scripts/services/up NAME: starts it and waits until it answers its protocol. */
  up(): Promise<void>;
  /** scripts/services/down NAME: stops it (SIGTERM, then SIGKILL after 30 s). */
  down(): Promise<void>;
  /** The server's process id (its JVM), while it runs. */
  pid(): Promise<number>;
  /** Stops it if it runs and deletes its home. */
  remove(): Promise<void>;
}

/** Makes (does not start) a private `name`; `heap` is the JVM's -Xmx. */
export async function privateServer(
  name: PrivateServerName,
  options: { heap: string },
): Promise<PrivateServer> {
  const home = await mkdtemp(path.join(tmpdir(), `alphalake-private-${name}-`));
  const sharedHome = process.env.ALPHALAKE_SERVICES_HOME ?? path.join(repoRoot, '.services');
  const jars = path.join(sharedHome, 'cache', name, 'lib');
  if (!existsSync(jars)) {
    await rm(home, { recursive: true, force: true });
    throw new Error(
      `no ${name} jars in ${jars}: run \`scripts/services/fetch ${name}\` (or point ALPHALAKE_SERVICES_HOME at the services home that has them)`,
    );
  }
  await symlink(path.join(sharedHome, 'cache'), path.join(home, 'cache'));
  const [port, second] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ALPHALAKE_SERVICES_HOME: home,
    ...(name === 'kafka'
      ? {
          ALPHALAKE_KAFKA_PORT: String(port),
          ALPHALAKE_KAFKA_CONTROLLER_PORT: String(second),
          ALPHALAKE_KAFKA_HEAP: options.heap,
        }
      : {
          ALPHALAKE_CASSANDRA_PORT: String(port),
          ALPHALAKE_CASSANDRA_STORAGE_PORT: String(second),
          ALPHALAKE_CASSANDRA_HEAP: options.heap,
        }),
  };
  const services = async (command: 'up' | 'down') => {
    try {
      await run(path.join(repoRoot, 'scripts', 'services', command), [name], {
        env,
        timeout: 400_000,
      });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(
        `scripts/services/${command} ${name} (private, home ${home}) failed:\n${stdout}${stderr}`,
      );
    }
  };
  return {
    name,
    address: `127.0.0.1:${port}`,
    up: () => services('up'),
    down: () => services('down'),
    async pid() {
      const text = await readFile(path.join(home, 'run', `${name}.pid`), 'utf8');
      const pid = Number(text.trim());
      if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no pid for private ${name}`);
      return pid;
    },
    async remove() {
      await services('down').catch(() => undefined);
      await rm(home, { recursive: true, force: true });
    },
  };
}
