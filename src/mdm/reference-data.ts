import type { CorporateActionInput, MasterData, SymbolInput } from './master-data.js';
import { outcome, type ImportResult, type ImportRowResult } from './csv.js';

/**
 * A provider of reference data: tickers and corporate actions as a vendor publishes them
 * (Polygon's `/v3/reference/tickers`, `/v3/reference/splits` and
 * `/v3/reference/dividends`; Yahoo's chart `events=split,div`). The source clients
 * implement it (the ingest work); master data only consumes it.
 */
export interface ReferenceDataSource {
  /** Recorded as each action's `source`, and in the audit log's actor. */
  readonly name: string;
  symbols(signal?: AbortSignal): AsyncIterable<SymbolInput>;
  corporateActions(signal?: AbortSignal): AsyncIterable<CorporateActionInput>;
}

export interface ReferenceRefreshResult {
  readonly symbols: ImportResult;
  readonly corporateActions: ImportResult;
}

/**
 * Brings master data up to a reference source, record by record, each with its outcome
 * (as a CSV import: `line` is the record's position in the source's sequence, from 1).
 * Symbols are created or updated; corporate actions added once (running it again
 * changes nothing; an action that differs from the one recorded for that kind and date
 * is reported as CONFLICT, never overwritten). Audited as `reference:<source>`. Stops at
 * `signal`, between records.
 */
export async function refreshReferenceData(
  masterData: MasterData,
  source: ReferenceDataSource,
  signal?: AbortSignal,
): Promise<ReferenceRefreshResult> {
  const actor = `reference:${source.name}`;
  const symbols: ImportRowResult[] = [];
  for await (const symbol of source.symbols(signal)) {
    signal?.throwIfAborted();
    symbols.push(
      await outcome(symbols.length + 1, symbol.ticker.trim().toUpperCase(), () =>
        masterData.upsertSymbol(symbol, actor),
      ),
    );
  }
  const actions: ImportRowResult[] = [];
  for await (const action of source.corporateActions(signal)) {
    signal?.throwIfAborted();
    actions.push(
      await outcome(
        actions.length + 1,
        `${action.symbol.trim().toUpperCase()} ${action.kind} ${action.exDate}`,
        () => masterData.addCorporateActionOnce({ ...action, source: source.name }, actor),
      ),
    );
  }
  return { symbols: { results: symbols }, corporateActions: { results: actions } };
}
