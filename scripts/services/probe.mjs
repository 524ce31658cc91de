// Asks one of the scripts/services servers a question in its own protocol, through the
// client the product uses: a Kafka metadata request, a CQL query, an S3 request, a Mongo
// ping. An open port is not enough: a server counts as up only when it answers.
//
//   node scripts/services/probe.mjs NAME [--wait SECONDS] [--pid PID] [--ensure-bucket]
//
// Exits 0 and prints one line when NAME answers; with --wait, retries until it does, the
// process PID is gone, or SECONDS pass. Addresses come from the same ALPHALAKE_* variables
// as lib.sh and test/services/endpoints.ts.
import console from 'node:console';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';

const env = process.env;
const host = env.ALPHALAKE_SERVICES_HOST ?? '127.0.0.1';
const ports = {
  kafka: Number(env.ALPHALAKE_KAFKA_PORT ?? 19092),
  cassandra: Number(env.ALPHALAKE_CASSANDRA_PORT ?? 19042),
  s3: Number(env.ALPHALAKE_S3_PORT ?? 19000),
  mongo: Number(env.ALPHALAKE_MONGO_PORT ?? 19017),
};

async function probeKafka() {
  const { Kafka, logLevel } = (await import('kafkajs')).default;
  const kafka = new Kafka({
    clientId: 'alphalake-probe',
    brokers: [`${host}:${ports.kafka}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error('no brokers in metadata');
    // A consumer group needs the group coordinator, which is ready a little after metadata.
    await admin.listGroups();
    return `${cluster.brokers.length} broker(s), controller ${cluster.controller}`;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function probeCassandra() {
  const cassandra = (await import('cassandra-driver')).default;
  const client = new cassandra.Client({
    contactPoints: [`${host}:${ports.cassandra}`],
    localDataCenter: 'datacenter1',
    socketOptions: { connectTimeout: 2000, readTimeout: 5000 },
  });
  try {
    const result = await client.execute('SELECT release_version FROM system.local');
    return `release_version ${result.first()?.get('release_version')}`;
  } finally {
    await client.shutdown().catch(() => {});
  }
}

async function probeS3(ensureBucket) {
  const s3 = await import('@aws-sdk/client-s3');
  const bucket = env.ALPHALAKE_S3_BUCKET ?? 'alphalake-test';
  const client = new s3.S3Client({
    endpoint: `http://${host}:${ports.s3}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: {
      accessKeyId: env.ALPHALAKE_S3_ACCESS_KEY_ID ?? 'alphalake',
      secretAccessKey: env.ALPHALAKE_S3_SECRET_ACCESS_KEY ?? 'alphalake-secret',
    },
    maxAttempts: 1,
  });
  try {
    const listed = await client.send(new s3.ListBucketsCommand({}));
    const names = (listed.Buckets ?? []).map((b) => b.Name);
    if (ensureBucket && !names.includes(bucket)) {
      await client.send(new s3.CreateBucketCommand({ Bucket: bucket }));
      return `created bucket ${bucket}`;
    }
    return `${names.length} bucket(s)${names.includes(bucket) ? `, ${bucket} present` : ''}`;
  } finally {
    client.destroy();
  }
}

async function probeMongo() {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(`mongodb://${host}:${ports.mongo}`, {
    serverSelectionTimeoutMS: 2000,
    connectTimeoutMS: 2000,
    directConnection: true,
  });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    const info = await client.db('admin').command({ buildInfo: 1 });
    return `ping ok, reports MongoDB ${info.version}`;
  } finally {
    await client.close().catch(() => {});
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function main() {
  const [name, ...rest] = process.argv.slice(2);
  let wait = 0;
  let pid;
  let ensureBucket = false;
  for (let i = 0; i < rest.length; i += 1) {
    if (rest[i] === '--wait') wait = Number(rest[(i += 1)]);
    else if (rest[i] === '--pid') pid = Number(rest[(i += 1)]);
    else if (rest[i] === '--ensure-bucket') ensureBucket = true;
    else throw new Error(`unknown argument ${rest[i]}`);
  }
  const probes = {
    kafka: probeKafka,
    cassandra: probeCassandra,
    s3: () => probeS3(ensureBucket),
    mongo: probeMongo,
  };
  const probeOnce = probes[name];
  if (probeOnce === undefined) {
    console.error(`probe: unknown server '${name}' (known: ${Object.keys(probes).join(', ')})`);
    return 2;
  }
  const deadline = Date.now() + wait * 1000;
  let lastError;
  for (;;) {
    try {
      const detail = await probeOnce();
      console.log(`${name} answers on ${host}:${ports[name]} (${detail})`);
      return 0;
    } catch (error) {
      lastError = error;
    }
    if (pid !== undefined && !alive(pid)) {
      console.error(`${name}: the server process (pid ${pid}) exited before it answered`);
      return 1;
    }
    if (Date.now() >= deadline) break;
    await sleep(1000);
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  console.error(`${name} is not answering on ${host}:${ports[name]}: ${reason}`);
  return 1;
}

process.exit(await main());
