import { DeltaTable, type ObjectStore, type TableReadOptions } from '../lake/index.js';
import {
  BARS_1M_TABLE,
  NEWS_TABLE,
  QUOTES_TABLE,
  REJECTS_TABLE,
  TRADES_TABLE,
  VENDOR_BARS_TABLE,
  type TableDefinition,
} from './tables.js';

/** The lake's tables, opened (and created on first use). */
export interface Medallion {
  readonly trades: DeltaTable;
  readonly bars1m: DeltaTable;
  readonly quotes: DeltaTable;
  readonly rejects: DeltaTable;
  readonly news: DeltaTable;
  readonly vendorBars: DeltaTable;
}

/** `read` says how the tables serve reads: snapshot refresh and the shared query cache. */
export async function openMedallion(
  store: ObjectStore,
  read: TableReadOptions = {},
): Promise<Medallion> {
  const [trades, bars1m, quotes, rejects, news, vendorBars] = await Promise.all(
    [TRADES_TABLE, BARS_1M_TABLE, QUOTES_TABLE, REJECTS_TABLE, NEWS_TABLE, VENDOR_BARS_TABLE].map(
      (definition) => openOrCreate(store, definition, read),
    ),
  );
  return {
    trades: trades!,
    bars1m: bars1m!,
    quotes: quotes!,
    rejects: rejects!,
    news: news!,
    vendorBars: vendorBars!,
  };
}

async function openOrCreate(
  store: ObjectStore,
  definition: TableDefinition,
  read: TableReadOptions,
): Promise<DeltaTable> {
  const table = await DeltaTable.create(store, definition.path, {
    schema: [...definition.schema],
    partitionColumns: [...definition.partitionColumns],
    clusterBy: [...definition.clusterBy],
    properties: { 'delta.checkpointInterval': '10' },
    ifNotExists: true,
    read,
  });
  // A table from an earlier release may lack nullable columns added since (e.g.
  // `bronze.trades.seq`, `ts_nanos`, `conditions`): add them by schema evolution, with no
  // rows, each declared with its type (an empty column cannot say it).
  const schema = (await table.snapshot()).schema;
  const present = new Set(schema.map((c) => c.name));
  const added = definition.schema.filter((c) => !present.has(c.name) && c.nullable);
  if (added.length > 0) {
    const columns = Object.fromEntries([
      ...schema.map((c) => [c.name, []] as const),
      ...added.map((c) => [c.name, []] as const),
    ]);
    await table.append(
      { length: 0, columns },
      {
        schemaMode: 'merge',
        columnTypes: Object.fromEntries(added.map((c) => [c.name, c.type])),
      },
    );
  }
  return table;
}
