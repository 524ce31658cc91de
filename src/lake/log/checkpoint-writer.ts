import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Action } from './actions.js';
import { sqlString, withDuckDB } from '../storage/index.js';
import { logDir } from './log-segment.js';
import { joinKey, type ObjectStore } from '../storage/index.js';
import type { Snapshot } from './snapshot.js';

/**
 * Writes a classic single-part checkpoint (PROTOCOL.md "Checkpoints", "Checkpoint
 * Schema") and then `_last_checkpoint` ("Last Checkpoint File"). The Parquet schema is the
 * one Spark and delta-rs read: one nullable struct column per action type. Removes are
 * kept as tombstones while younger than `delta.deletedFileRetentionDuration`.
 */
const CHECKPOINT_COLUMNS: Record<string, string> = {
  txn: 'STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)',
  add:
    'STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, modificationTime BIGINT, ' +
    'dataChange BOOLEAN, stats VARCHAR, tags MAP(VARCHAR, VARCHAR), baseRowId BIGINT, ' +
    'defaultRowCommitVersion BIGINT, clusteringProvider VARCHAR)',
  remove:
    'STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, ' +
    'partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, tags MAP(VARCHAR, VARCHAR))',
  metaData:
    'STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, ' +
    'options MAP(VARCHAR, VARCHAR)), schemaString VARCHAR, partitionColumns VARCHAR[], ' +
    'configuration MAP(VARCHAR, VARCHAR), createdTime BIGINT)',
  protocol:
    'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], writerFeatures VARCHAR[])',
  domainMetadata: 'STRUCT(domain VARCHAR, configuration VARCHAR, removed BOOLEAN)',
};

export const DEFAULT_CHECKPOINT_INTERVAL = 10;

export function checkpointInterval(snapshot: Snapshot): number {
  const value = Number(snapshot.properties['delta.checkpointInterval']);
  return Number.isInteger(value) && value > 0 ? value : DEFAULT_CHECKPOINT_INTERVAL;
}

/** `delta.deletedFileRetentionDuration` ("interval 7 days") in milliseconds. */
export function deletedFileRetentionMs(properties: Readonly<Record<string, string>>): number {
  return parseInterval(properties['delta.deletedFileRetentionDuration']) ?? 7 * 24 * 3600 * 1000;
}

export function parseInterval(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^\s*(?:interval\s+)?(\d+(?:\.\d+)?)\s*(\w+?)s?\s*$/i.exec(text);
  if (!match) return undefined;
  const units: Record<string, number> = {
    millisecond: 1,
    second: 1000,
    minute: 60_000,
    hour: 3_600_000,
    day: 86_400_000,
    week: 604_800_000,
  };
  const unit = units[(match[2] ?? '').toLowerCase()];
  return unit === undefined ? undefined : Number(match[1]) * unit;
}

export async function writeCheckpoint(
  store: ObjectStore,
  snapshot: Snapshot,
  signal?: AbortSignal,
): Promise<void> {
  const now = Date.now();
  const retention = deletedFileRetentionMs(snapshot.properties);
  const actions: Action[] = [{ protocol: snapshot.protocol }, { metaData: snapshot.metadata }];
  for (const txn of snapshot.state.txns.values()) actions.push({ txn });
  for (const domainMetadata of snapshot.domainMetadata) actions.push({ domainMetadata });
  for (const add of snapshot.files) actions.push({ add: { ...add, dataChange: false } });
  for (const remove of snapshot.tombstones) {
    if ((remove.deletionTimestamp ?? 0) > now - retention)
      actions.push({ remove: { ...remove, dataChange: false } });
  }

  const dir = path.join(tmpdir(), `alphalake-checkpoint-${randomUUID()}`);
  await mkdir(dir, { recursive: true });
  try {
    const jsonFile = path.join(dir, 'actions.json');
    const parquetFile = path.join(dir, 'checkpoint.parquet');
    await writeFile(jsonFile, actions.map((action) => JSON.stringify(action)).join('\n') + '\n');
    const columns = Object.entries(CHECKPOINT_COLUMNS)
      .map(([name, type]) => `${name}: ${sqlString(type)}`)
      .join(', ');
    const order = Object.keys(CHECKPOINT_COLUMNS)
      .map((name) => `"${name}"`)
      .join(', ');
    await withDuckDB(
      (connection) =>
        connection.run(
          `COPY (SELECT ${order} FROM read_json(${sqlString(jsonFile)}, format = 'newline_delimited', ` +
            `columns = {${columns}}, maximum_object_size = 1073741824)) TO ${sqlString(parquetFile)} ` +
            `(FORMAT parquet, COMPRESSION snappy)`,
        ),
      signal,
    );
    const bytes = await readFile(parquetFile);
    const version = snapshot.version;
    const key = joinKey(
      logDir(snapshot.tablePath),
      `${String(version).padStart(20, '0')}.checkpoint.parquet`,
    );
    await store.put(key, bytes, signal);
    const last = {
      version,
      size: actions.length,
      sizeInBytes: bytes.length,
      numOfAddFiles: snapshot.files.length,
    };
    await store.put(
      joinKey(logDir(snapshot.tablePath), '_last_checkpoint'),
      new TextEncoder().encode(JSON.stringify(last)),
      signal,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
