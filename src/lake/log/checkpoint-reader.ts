import type { Action } from './actions.js';
import { sqlString, withDuckDB } from '../storage/index.js';
import type { ObjectStore } from '../storage/index.js';

/**
 * Reads a classic checkpoint, single- or multi-part (PROTOCOL.md "Checkpoints",
 * "Checkpoint Schema"), with DuckDB's `read_parquet`. Each struct column is rendered as
 * JSON so checkpoint rows become the same actions a commit file holds; `stats_parsed`
 * comes through as a nested object and is used when `stats` is absent.
 */
const ACTION_COLUMNS = [
  'protocol',
  'metaData',
  'add',
  'remove',
  'txn',
  'domainMetadata',
  'checkpointMetadata',
  'sidecar',
];

export async function readCheckpoint(
  store: ObjectStore,
  keys: readonly string[],
  signal?: AbortSignal,
): Promise<Action[]> {
  const paths = await Promise.all(keys.map((key) => store.localPath(key, signal)));
  const source = `read_parquet([${paths.map(sqlString).join(', ')}], union_by_name = true)`;
  return withDuckDB(async (connection) => {
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
    const present = new Set(described.getRowObjectsJson().map((row) => String(row['column_name'])));
    const columns = ACTION_COLUMNS.filter((column) => present.has(column));
    if (columns.length === 0) return [];
    const select = columns.map((column) => `to_json("${column}") AS "${column}"`).join(', ');
    const where = columns.map((column) => `"${column}" IS NOT NULL`).join(' OR ');
    const result = await connection.runAndReadAll(`SELECT ${select} FROM ${source} WHERE ${where}`);
    const actions: Action[] = [];
    for (const row of result.getRowsJson()) {
      for (let i = 0; i < columns.length; i++) {
        const cell = row[i];
        if (typeof cell !== 'string') continue;
        const column = columns[i] as keyof Action;
        actions.push({ [column]: JSON.parse(cell) as unknown } as Action);
        break;
      }
    }
    return actions;
  }, signal);
}
