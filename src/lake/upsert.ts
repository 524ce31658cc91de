import { AlphalakeError } from '../domain/index.js';
import {
  decodeActionPath,
  duckdbType,
  physicalName,
  quoteIdent,
  type AddFile,
  type ColumnSpec,
  type RemoveFile,
  type Snapshot,
} from './log/index.js';
import { filesMayOverlap } from './read/index.js';
import { rewriteFiles } from './maintenance/index.js';
import { joinKey, sqlString, withDuckDB, type ObjectStore } from './storage/index.js';

/**
 * The rows an upsert (a MERGE on a key: "when matched update, when not matched insert")
 * takes out of the table, copy-on-write as Delta's MERGE does it (PROTOCOL.md "Add File and
 * Remove File"): each existing file that holds a row whose key is among the incoming rows'
 * is removed and, unless nothing else is left in it, written again without those rows; the
 * caller adds the incoming files in the same commit. Files are matched by partition and then
 * by their key columns' statistics (`filesMayOverlap`), so an upsert of rows that are all
 * new (the next minutes of a live feed) reads no existing file and rewrites nothing.
 */
export interface KeyReplacement {
  /** Removes (dataChange: true) of the existing files that held a replaced row. */
  readonly removes: RemoveFile[];
  /** Those files again without the replaced rows. */
  readonly adds: AddFile[];
  /** Existing rows whose key the incoming rows carry (they are replaced). */
  readonly rowsReplaced: number;
}

/** How a table's files are laid out, for writing a file again. */
export interface TableLayout {
  readonly partitionColumns: readonly string[];
  readonly clusterBy: readonly string[];
}

/**
 * Finds the rows of `snapshot` whose `key` the `incoming` files (written, not committed)
 * hold, and plans their replacement. The incoming rows must carry each key once
 * (BAD_USER_INPUT otherwise): which of two would win is not the table's to guess. Key
 * columns must be non-nullable data columns (NULL never equals NULL in a key).
 */
export async function replaceKeys(
  store: ObjectStore,
  snapshot: Snapshot,
  incoming: readonly AddFile[],
  key: readonly string[],
  layout: TableLayout,
  signal?: AbortSignal,
): Promise<KeyReplacement> {
  const keyColumns = key.map((name) => keyColumnOf(snapshot, name, layout));
  if (incoming.length === 0) return { removes: [], adds: [], rowsReplaced: 0 };
  const partitionSpecs = snapshot.schema.filter((c) => layout.partitionColumns.includes(c.name));
  const partitionOf = (file: AddFile): string =>
    JSON.stringify(
      partitionSpecs.map(
        (c) => file.partitionValues[physicalName(c)] ?? file.partitionValues[c.name] ?? null,
      ),
    );
  const incomingByPartition = new Map<string, AddFile[]>();
  for (const file of incoming) {
    const list = incomingByPartition.get(partitionOf(file)) ?? [];
    list.push(file);
    incomingByPartition.set(partitionOf(file), list);
  }
  const candidates = snapshot.files.filter((file) =>
    (incomingByPartition.get(partitionOf(file)) ?? []).some((added) =>
      filesMayOverlap(file, added, keyColumns),
    ),
  );
  const localOf = (file: AddFile): Promise<string> =>
    store.localPath(joinKey(snapshot.tablePath, decodeActionPath(file.path)), signal);
  const newPaths = await Promise.all(incoming.map(localOf));
  const newSource = `read_parquet([${newPaths.map(sqlString).join(', ')}], hive_partitioning = false)`;
  const keyOf = (alias: string, column: ColumnSpec): string =>
    `CAST(${alias}.${quoteIdent(physicalName(column))} AS ${duckdbType(column.type)})`;
  const keyList = keyColumns.map((c) => keyOf('n', c)).join(', ');
  const matched = keyColumns.map((c) => `${keyOf('n', c)} = ${keyOf('o', c)}`).join(' AND ');
  return withDuckDB(async (connection) => {
    const repeated = await connection.runAndReadAll(
      `SELECT ${keyList} FROM ${newSource} n GROUP BY ALL HAVING count(*) > 1 LIMIT 1`,
    );
    const repeat = repeated.getRowObjectsJson()[0];
    if (repeat !== undefined) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `upsert into ${snapshot.tablePath}: the incoming rows hold the key ${JSON.stringify(repeat)} more than once`,
        { key: repeat },
      );
    }
    const removes: RemoveFile[] = [];
    const adds: AddFile[] = [];
    let rowsReplaced = 0;
    const now = Date.now();
    for (const file of candidates) {
      signal?.throwIfAborted();
      const old = `read_parquet(${sqlString(await localOf(file))}, hive_partitioning = false)`;
      const hit = `EXISTS (SELECT 1 FROM ${newSource} n WHERE ${matched})`;
      const counted = await connection.runAndReadAll(
        `SELECT count(*) FILTER (WHERE ${hit}) AS replaced, count(*) AS total FROM ${old} o`,
      );
      const row = counted.getRowObjectsJson()[0] ?? {};
      const replaced = Number(row['replaced'] ?? 0);
      const total = Number(row['total'] ?? 0);
      if (replaced === 0) continue;
      rowsReplaced += replaced;
      removes.push({
        path: file.path,
        deletionTimestamp: now,
        dataChange: true,
        extendedFileMetadata: true,
        partitionValues: file.partitionValues,
        size: file.size,
      });
      if (replaced === total) continue;
      adds.push(
        ...(await rewriteFiles(connection, store, snapshot, {
          source: old,
          where: `NOT ${hit}`,
          partitionValues: file.partitionValues,
          clusterBy: layout.clusterBy,
          dataChange: true,
          signal,
        })),
      );
    }
    return { removes, adds, rowsReplaced };
  }, signal);
}

function keyColumnOf(snapshot: Snapshot, name: string, layout: TableLayout): ColumnSpec {
  const column = snapshot.schema.find((c) => c.name === name);
  if (!column || layout.partitionColumns.includes(name) || column.nullable) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `upsert key column ${name} of ${snapshot.tablePath} must be a non-nullable data column`,
      { column: name },
    );
  }
  return column;
}
