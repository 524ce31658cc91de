/**
 * A child process for the concurrency and crash tests:
 *   node append-worker.js <root> <table> <worker> <commits> [crash]
 * appends `commits` single-row commits with ids worker*1000+i; with `crash` it writes the
 * data files of one append and dies (SIGKILL) at the moment it would commit.
 * With S3_* variables set it writes through the S3 store instead of the local folder.
 */
import {
  DeltaTable,
  localObjectStore,
  s3ObjectStore,
  type ObjectStore,
} from '../../src/lake/index.js';

const [root, tablePath, workerArg, commitsArg, mode] = process.argv.slice(2);
const worker = Number(workerArg);
const commits = Number(commitsArg);

function baseStore(): ObjectStore {
  const bucket = process.env['LAKE_TEST_S3_BUCKET'];
  if (bucket) {
    return s3ObjectStore({
      bucket,
      prefix: process.env['LAKE_TEST_S3_PREFIX'],
      endpoint: process.env['LAKE_TEST_S3_ENDPOINT'],
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: {
        accessKeyId: process.env['LAKE_TEST_S3_KEY'] ?? '',
        secretAccessKey: process.env['LAKE_TEST_S3_SECRET'] ?? '',
      },
      cacheDir: root as string,
    });
  }
  return localObjectStore(root as string);
}

const inner = baseStore();
const store: ObjectStore =
  mode === 'crash'
    ? {
        ...inner,
        putIfAbsent: async (key, bytes, signal) => {
          if (key.includes('_delta_log/')) process.kill(process.pid, 'SIGKILL');
          return inner.putIfAbsent(key, bytes, signal);
        },
      }
    : inner;

const table = await DeltaTable.open(store, tablePath as string);
for (let i = 0; i < commits; i++) {
  await table.append([{ id: worker * 1000 + i, worker, date: '2024-01-02' }], {
    txn: { appId: `worker-${worker}`, version: i + 1 },
  });
}
