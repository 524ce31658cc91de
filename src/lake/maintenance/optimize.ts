import { randomUUID } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { decodeActionPath, type Action, type AddFile } from '../log/index.js';
import type { CommitPlan } from '../log/index.js';
import { copyStageToFiles, type StageColumnRef } from '../data/index.js';
import { sqlString, withDuckDB } from '../storage/index.js';
import { joinKey, type ObjectStore } from '../storage/index.js';
import { duckdbType, physicalName, quoteIdent } from '../log/index.js';
import type { Snapshot } from '../log/index.js';

/**
 * OPTIMIZE (bin-packing compaction): in each partition, files smaller than the target
 * size are grouped into bins of about the target size and each bin is rewritten as one
 * file, sorted by the clustering columns. The commit removes the old files and adds the
 * new ones with `dataChange: false` (PROTOCOL.md "Add File and Remove File"), so
 * streaming readers skip it and concurrent appends never conflict with it.
 */
export interface OptimizeOptions {
  /** @default table property `delta.targetFileSize`, else 128 MiB */
  readonly targetFileSize?: number;
  /** Files at least this large are left alone. @default 3/4 of the target */
  readonly minFileSize?: number;
  readonly signal?: AbortSignal;
}

export interface OptimizeResult {
  readonly version: number | undefined;
  readonly filesRemoved: number;
  readonly filesAdded: number;
  readonly partitionsOptimized: number;
}

export async function planAndRewrite(
  store: ObjectStore,
  snapshot: Snapshot,
  clusterBy: readonly string[],
  options: OptimizeOptions,
): Promise<
  { plan: Omit<CommitPlan, 'signal'>; result: Omit<OptimizeResult, 'version'> } | undefined
> {
  const target =
    options.targetFileSize ??
    (Number(snapshot.properties['delta.targetFileSize']) || 128 * 1024 * 1024);
  const minSize = options.minFileSize ?? Math.floor(target * 0.75);
  const byPartition = new Map<string, AddFile[]>();
  const partitionSpecs = snapshot.schema.filter((c) => snapshot.partitionColumns.includes(c.name));
  for (const file of snapshot.files) {
    if (file.size >= minSize) continue;
    // Column-mapped tables key partition values by physical name.
    const key = JSON.stringify(
      partitionSpecs.map(
        (c) => file.partitionValues[physicalName(c)] ?? file.partitionValues[c.name] ?? null,
      ),
    );
    const list = byPartition.get(key) ?? [];
    list.push(file);
    byPartition.set(key, list);
  }
  const bins: AddFile[][] = [];
  for (const files of byPartition.values()) {
    if (files.length < 2) continue;
    files.sort((a, b) => a.size - b.size);
    let bin: AddFile[] = [];
    let size = 0;
    for (const file of files) {
      if (bin.length > 0 && size + file.size > target) {
        bins.push(bin);
        bin = [];
        size = 0;
      }
      bin.push(file);
      size += file.size;
    }
    bins.push(bin);
  }
  const rewrites = bins.filter((bin) => bin.length > 1);
  if (rewrites.length === 0) return undefined;

  const now = Date.now();
  const removes: Action[] = [];
  const adds: Action[] = [];
  const partitions = new Set<string>();
  for (const bin of rewrites) {
    options.signal?.throwIfAborted();
    const first = bin[0] as AddFile;
    partitions.add(JSON.stringify(first.partitionValues));
    const added = await rewriteBin(store, snapshot, bin, clusterBy, options.signal);
    for (const file of bin) {
      removes.push({
        remove: {
          path: file.path,
          deletionTimestamp: now,
          dataChange: false,
          extendedFileMetadata: true,
          partitionValues: file.partitionValues,
          size: file.size,
        },
      });
    }
    for (const add of added) adds.push({ add });
  }
  const removedPaths = new Set(rewrites.flat().map((file) => decodeActionPath(file.path)));
  const commitInfo: Action = {
    commitInfo: {
      timestamp: now,
      operation: 'OPTIMIZE',
      operationParameters: { predicate: '[]', targetSize: String(target), zOrderBy: '[]' },
      operationMetrics: {
        numRemovedFiles: String(removes.length),
        numAddedFiles: String(adds.length),
      },
      isBlindAppend: false,
      readVersion: snapshot.version,
    },
  };
  return {
    plan: { operation: 'optimize', actions: [commitInfo, ...removes, ...adds], removedPaths },
    result: {
      filesRemoved: removes.length,
      filesAdded: adds.length,
      partitionsOptimized: partitions.size,
    },
  };
}

async function rewriteBin(
  store: ObjectStore,
  snapshot: Snapshot,
  bin: readonly AddFile[],
  clusterBy: readonly string[],
  signal?: AbortSignal,
): Promise<AddFile[]> {
  const paths = await Promise.all(
    bin.map((file) =>
      store.localPath(joinKey(snapshot.tablePath, decodeActionPath(file.path)), signal),
    ),
  );
  return withDuckDB(
    (connection) =>
      rewriteFiles(connection, store, snapshot, {
        source: `read_parquet([${paths.map(sqlString).join(', ')}], hive_partitioning = false, union_by_name = true)`,
        partitionValues: (bin[0] as AddFile).partitionValues,
        clusterBy,
        dataChange: false,
        signal,
      }),
    signal,
  );
}

/**
 * Writes the rows of `source` (Parquet files of one partition, read in DuckDB as `o`) that
 * pass `where` as new data files of `partitionValues`, sorted by `clusterBy`: OPTIMIZE's
 * bins (every row, `dataChange: false`) and an upsert's files without the replaced rows
 * (src/lake/upsert.ts). A column the files predate (schema evolution) is NULL, as readers
 * see it. Runs on the caller's connection (`withDuckDB` does not nest).
 */
export async function rewriteFiles(
  connection: DuckDBConnection,
  store: ObjectStore,
  snapshot: Snapshot,
  input: {
    readonly source: string;
    readonly where?: string;
    readonly partitionValues: Readonly<Record<string, string | null>>;
    readonly clusterBy: readonly string[];
    readonly dataChange: boolean;
    readonly signal?: AbortSignal | undefined;
  },
): Promise<AddFile[]> {
  const partitionSet = new Set(snapshot.partitionColumns);
  const dataColumns = snapshot.schema.filter((c) => !partitionSet.has(c.name));
  const stage = `rewrite_${randomUUID().replaceAll('-', '')}`;
  const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${input.source}`);
  const present = new Set(described.getRowObjectsJson().map((row) => String(row['column_name'])));
  const select = dataColumns.map((column, i) => {
    const physical = physicalName(column);
    const value = present.has(physical) ? `o.${quoteIdent(physical)}` : 'NULL';
    return `CAST(${value} AS ${duckdbType(column.type)}) AS c${i}`;
  });
  await connection.run(
    `CREATE TEMP TABLE ${stage} AS SELECT ${select.join(', ')}, 0 AS __pid FROM ${input.source} o` +
      (input.where ? ` WHERE ${input.where}` : ''),
  );
  try {
    const columns: StageColumnRef[] = dataColumns.map((spec, i) => ({ spec, expr: `c${i}` }));
    const { adds } = await copyStageToFiles(connection, store, snapshot.tablePath, {
      stage,
      columns,
      partitions: [{ values: { ...input.partitionValues } }],
      params: [],
      options: {
        schema: dataColumns,
        partitionColumns: snapshot.partitionColumns,
        partitionSpecs: snapshot.schema.filter((c) => partitionSet.has(c.name)),
        clusterBy: input.clusterBy,
        dataChange: input.dataChange,
        ...(input.signal ? { signal: input.signal } : {}),
      },
    });
    return adds;
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${stage}`);
  }
}
