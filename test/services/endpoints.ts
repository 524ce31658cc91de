/**
 * Where the real servers of the services tier listen (scripts/services; docs/services.md),
 * read from the same ALPHALAKE_* variables as scripts/services/lib.sh, with its defaults.
 * Tests import `endpoints` for addresses and call `requireService` in `beforeAll`, so a
 * server that is down fails the suite with a message that says how to start it.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import cassandra from 'cassandra-driver';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';

const env = process.env;

function port(variable: string, fallback: number): number {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0 || value > 65_535) {
    throw new Error(`${variable}=${raw} is not a TCP port`);
  }
  return value;
}

/** The repository root: the nearest folder above this file that has scripts/services. */
function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'scripts', 'services', 'lib.sh'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

const host = env.ALPHALAKE_SERVICES_HOST ?? '127.0.0.1';
export const repoRoot = findRepoRoot();

/** The venv scripts/services/lib.sh creates: ALPHALAKE_VENV, else `<services home>/venv`. */
function venvDir(): string {
  if (env.ALPHALAKE_VENV) return env.ALPHALAKE_VENV;
  return path.join(env.ALPHALAKE_SERVICES_HOME || path.join(repoRoot, '.services'), 'venv');
}

const ports = Object.freeze({
  kafka: port('ALPHALAKE_KAFKA_PORT', 19092),
  cassandra: port('ALPHALAKE_CASSANDRA_PORT', 19042),
  s3: port('ALPHALAKE_S3_PORT', 19000),
  mongo: port('ALPHALAKE_MONGO_PORT', 19017),
});

export const endpoints = Object.freeze({
  host,
  kafkaBrokers: Object.freeze([`${host}:${ports.kafka}`]),
  cassandra: Object.freeze({
    contactPoints: Object.freeze([`${host}:${ports.cassandra}`]),
    localDataCenter: 'datacenter1',
  }),
  s3: Object.freeze({
    endpoint: `http://${host}:${ports.s3}`,
    bucket: env.ALPHALAKE_S3_BUCKET ?? 'alphalake-test',
    accessKeyId: env.ALPHALAKE_S3_ACCESS_KEY_ID ?? 'alphalake',
    secretAccessKey: env.ALPHALAKE_S3_SECRET_ACCESS_KEY ?? 'alphalake-secret',
    region: 'us-east-1',
    forcePathStyle: true,
  }),
  mongoUri: `mongodb://${host}:${ports.mongo}`,
  /**
   * The venv's Python, with deltalake and pyarrow: where scripts/services/fetch puts it
   * (`scripts/services/python` prints the same path), unless ALPHALAKE_PYTHON names another.
   */
  python: env.ALPHALAKE_PYTHON || path.join(venvDir(), 'bin', 'python'),
});

export type ServiceName = 'kafka' | 'cassandra' | 's3' | 'mongo' | 'python';

const labels: Record<ServiceName, { name: string; address: string; start: string; down?: string }> =
  {
    kafka: { name: 'Kafka', address: `${host}:${ports.kafka}`, start: 'npm run services:up' },
    cassandra: {
      name: 'Cassandra',
      address: `${host}:${ports.cassandra}`,
      start: 'npm run services:up',
    },
    s3: { name: 'The S3 server', address: `${host}:${ports.s3}`, start: 'npm run services:up' },
    mongo: {
      name: 'The MongoDB server',
      address: `${host}:${ports.mongo}`,
      start: 'npm run services:up',
    },
    python: {
      name: 'The services Python (deltalake, pyarrow)',
      address: endpoints.python,
      down: 'is not usable at',
      start: 'scripts/services/fetch python',
    },
  };

/** An S3 client for the services tier's S3 server. */
export function s3Client(): S3Client {
  return new S3Client({
    endpoint: endpoints.s3.endpoint,
    region: endpoints.s3.region,
    forcePathStyle: endpoints.s3.forcePathStyle,
    credentials: {
      accessKeyId: endpoints.s3.accessKeyId,
      secretAccessKey: endpoints.s3.secretAccessKey,
    },
  });
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function askKafka(): Promise<void> {
  const admin = new Kafka({
    clientId: 'alphalake-require',
    brokers: [...endpoints.kafkaBrokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function askCassandra(): Promise<void> {
  const client = new cassandra.Client({
    contactPoints: [...endpoints.cassandra.contactPoints],
    localDataCenter: endpoints.cassandra.localDataCenter,
    socketOptions: { connectTimeout: 2000 },
  });
  try {
    await client.execute('SELECT release_version FROM system.local');
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}

async function askS3(): Promise<void> {
  const client = s3Client();
  try {
    await client.send(new ListBucketsCommand({}));
  } finally {
    client.destroy();
  }
}

async function askMongo(): Promise<void> {
  const client = new MongoClient(endpoints.mongoUri, {
    serverSelectionTimeoutMS: 2000,
    directConnection: true,
  });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close().catch(() => undefined);
  }
}

async function askPython(): Promise<void> {
  await promisify(execFile)(endpoints.python, ['-c', 'import deltalake, pyarrow']);
}

const questions: Record<ServiceName, () => Promise<void>> = {
  kafka: askKafka,
  cassandra: askCassandra,
  s3: askS3,
  mongo: askMongo,
  python: askPython,
};

/**
 * Resolves when `name` answers its own protocol (a Kafka metadata request, a CQL query,
 * an S3 request, a Mongo ping, an import in Python); otherwise throws an error that names
 * the server, its address and the command that starts it.
 */
export async function requireService(name: ServiceName): Promise<void> {
  const label = labels[name];
  try {
    await withTimeout(questions[name](), 10_000);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `${label.name} ${label.down ?? 'is not answering on'} ${label.address} — run \`${label.start}\` (${reason})`,
    );
  }
}

/**
 * The environment of `alphalake` roles (sink, ingest) on the test Kafka: topics of their
 * own (a fresh `KAFKA_TOPIC_PREFIX` starting with `name`), local state and the lake under
 * `home`, a sink flush every second, no simulator.
 */
export function kafkaRoleEnv(
  home: string,
  name: string,
  partitions: number,
): Record<string, string> & { readonly KAFKA_TOPIC_PREFIX: string } {
  return {
    PATH: process.env.PATH ?? '',
    ALPHALAKE_HOME: home,
    KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: `${name}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.`,
    KAFKA_PARTITIONS: String(partitions),
    BATCH_INTERVAL_SECONDS: '1',
    SIM_ENABLED: 'false',
  };
}

/**
 * The rows delta-rs counts in the table `table` (e.g. `bronze/trades`) of a lake under
 * `home`, 0 while there is no table yet: for tests that wait on another process's commits.
 */
export async function deltaRsRowCount(home: string, table: string): Promise<number> {
  const script = [
    'import sys',
    'from deltalake import DeltaTable',
    'try:',
    '    print(DeltaTable(sys.argv[1]).to_pyarrow_dataset().count_rows())',
    'except Exception:',
    '    print(0)',
    'sys.stdout.flush()',
    'import os; os._exit(0)',
  ].join('\n');
  const { stdout } = await promisify(execFile)(endpoints.python, [
    '-c',
    script,
    path.join(home, 'lake', table),
  ]);
  return Number(stdout.trim());
}
