/** Public surface of src/mdm: master data ports and adapters. */
export {
  MemorySymbolDirectory,
  type SymbolDirectory,
  type SymbolSeries,
  type TickerSegment,
} from './symbol-directory.js';
export {
  ASSET_CLASSES,
  AUDIT_ACTIONS,
  SYMBOL_STATUSES,
  type AssetClass,
  type AuditAction,
  type AuditQuery,
  type AuditRecord,
  type CorporateActionRecord,
  type MasterDataStore,
  type MasterDataStoreHealth,
  type SymbolChangeRecord,
  type SymbolRecord,
  type SymbolStatus,
} from './master-data-store.js';
export { EmbeddedMasterDataStore } from './embedded-master-data-store.js';
export {
  MongoMasterDataStore,
  type MongoMasterDataStoreOptions,
} from './mongo-master-data-store.js';
export {
  MasterData,
  normalizeTicker,
  type CorporateActionInput,
  type MasterDataOptions,
  type SymbolInput,
  type SymbolPatch,
  type SymbolView,
  type UnknownSymbolPolicy,
} from './master-data.js';
export {
  actionFactor,
  adjustmentSpans,
  isIdentity,
  spanAt,
  startOfDate,
  TIME_MAX,
  TIME_MIN,
  type ActionFactor,
  type AdjustmentSpan,
} from './adjustments.js';
export {
  CORPORATE_ACTION_COLUMNS,
  exportCorporateActionsCsv,
  exportSymbolsCsv,
  importCorporateActionsCsv,
  importSymbolsCsv,
  SYMBOL_COLUMNS,
  type ImportResult,
  type ImportRowResult,
  type ImportStatus,
} from './csv.js';
export {
  assertRefreshComplete,
  changedRecords,
  refreshReferenceData,
  tickersToRefresh,
  lacksListingDate,
  type ReferenceDataSource,
  type ReferenceEntry,
  type ReferenceRefreshResult,
} from './reference-data.js';
