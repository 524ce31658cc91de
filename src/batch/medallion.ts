import { DeltaTable, type ObjectStore } from '../lake/index.js';
import { BARS_1M_TABLE, REJECTS_TABLE, TRADES_TABLE, type TableDefinition } from './tables.js';

/** The lake's tables, opened (and created on first use). */
export interface Medallion {
  readonly trades: DeltaTable;
  readonly bars1m: DeltaTable;
  readonly rejects: DeltaTable;
}

export async function openMedallion(store: ObjectStore): Promise<Medallion> {
  const [trades, bars1m, rejects] = await Promise.all(
    [TRADES_TABLE, BARS_1M_TABLE, REJECTS_TABLE].map((definition) =>
      openOrCreate(store, definition),
    ),
  );
  return { trades: trades!, bars1m: bars1m!, rejects: rejects! };
}

async function openOrCreate(store: ObjectStore, definition: TableDefinition): Promise<DeltaTable> {
  return DeltaTable.create(store, definition.path, {
    schema: [...definition.schema],
    partitionColumns: [...definition.partitionColumns],
    clusterBy: [...definition.clusterBy],
    properties: { 'delta.checkpointInterval': '10' },
    ifNotExists: true,
  });
}
