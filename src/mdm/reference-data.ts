import { AlphalakeError } from '../domain/index.js';
import type { CorporateActionInput, MasterData, SymbolInput } from './master-data.js';
import { outcome, type ImportResult, type ImportRowResult } from './csv.js';

/**
 * One record of a reference source: what it says, or why it could not say it (a ticker
 * the vendor does not know, a record without a field). An error is reported as that
 * record's outcome, never dropped.
 */
export type ReferenceEntry<T> =
  | { readonly key: string; readonly value: T }
  | { readonly key: string; readonly error: AlphalakeError };

/**
 * A provider of reference data: tickers and corporate actions as a vendor publishes them
 * (Polygon's paged `/v3/reference/tickers`, with `/v3/reference/tickers/{ticker}` where the
 * list lacks a field, `/v3/reference/splits` and
 * `/v3/reference/dividends`; Yahoo's chart `events=div,splits`). The source clients
 * implement it (src/ingest/polygon/reference-source.ts, src/ingest/yahoo/reference-source.ts);
 * master data only consumes it.
 */
export interface ReferenceDataSource {
  /** Recorded as each action's `source`. */
  readonly name: string;
  symbols(signal: AbortSignal): AsyncIterable<ReferenceEntry<SymbolInput>>;
  corporateActions(signal: AbortSignal): AsyncIterable<ReferenceEntry<CorporateActionInput>>;
}

export interface ReferenceRefreshResult {
  readonly source: string;
  readonly symbols: ImportResult;
  readonly corporateActions: ImportResult;
}

/**
 * Brings master data up to a reference source, record by record, each with its outcome
 * (as a CSV import: `line` is the record's position in the source's sequence, from 1).
 * Symbols are created or updated through the store's compare-and-set; corporate actions
 * added once. Running it again changes nothing and writes no audit record (an unchanged
 * symbol or action is UNCHANGED); an action that differs from the one recorded for that
 * kind and date is reported as CONFLICT, never overwritten. Every change is audited as
 * `actor` (`job:<id>` from the `mdm.refresh` job). Stops at `signal`, between records.
 */
export async function refreshReferenceData(
  masterData: MasterData,
  source: ReferenceDataSource,
  actor: string,
  signal: AbortSignal,
): Promise<ReferenceRefreshResult> {
  const symbols: ImportRowResult[] = [];
  for await (const entry of source.symbols(signal)) {
    signal.throwIfAborted();
    const line = symbols.length + 1;
    symbols.push(
      'error' in entry
        ? failed(line, entry.key, entry.error)
        : await outcome(line, entry.key, () => masterData.upsertSymbol(entry.value, actor)),
    );
  }
  // Symbols first: an action of a ticker the source just created finds its symbol.
  await masterData.refresh();
  const actions: ImportRowResult[] = [];
  for await (const entry of source.corporateActions(signal)) {
    signal.throwIfAborted();
    const line = actions.length + 1;
    actions.push(
      'error' in entry
        ? failed(line, entry.key, entry.error)
        : await outcome(line, entry.key, () =>
            masterData.addCorporateActionOnce({ ...entry.value, source: source.name }, actor),
          ),
    );
  }
  return {
    source: source.name,
    symbols: { results: symbols },
    corporateActions: { results: actions },
  };
}

function failed(line: number, key: string, error: AlphalakeError): ImportRowResult {
  return { line, key, status: 'ERROR', code: error.code, error: error.message };
}

/**
 * The tickers a refresh asks its source about: those requested, else every symbol master
 * data holds that is not DELISTED (a delisted ticker may since name another company at
 * the vendor, whose details must not be written over the old one's).
 */
export function tickersToRefresh(
  masterData: MasterData,
  requested: readonly string[] | undefined,
): string[] {
  if (requested !== undefined && requested.length > 0) {
    return [...new Set(requested.map((t) => t.trim().toUpperCase()).filter((t) => t !== ''))];
  }
  return masterData
    .symbols()
    .filter((s) => s.status !== 'DELISTED')
    .map((s) => s.ticker);
}

/**
 * Whether master data has no listing date for the symbol a ticker names (or no such
 * symbol): what a source whose bulk list lacks the listing date (Polygon's
 * `/v3/reference/tickers`) fetches per-ticker details for, once.
 */
export function lacksListingDate(masterData: MasterData, ticker: string): boolean {
  return (masterData.symbol(ticker)?.listedDate ?? null) === null;
}

/** How many records a refresh created or updated (the job's `rows`). */
export function changedRecords(result: ReferenceRefreshResult): number {
  return [...result.symbols.results, ...result.corporateActions.results].filter(
    (r) => r.status === 'CREATED' || r.status === 'UPDATED',
  ).length;
}

/**
 * Fails a refresh that left records in error, after every other record was applied:
 * INCOMPLETE, naming each (so the job's last error says which, and a retry, which changes
 * nothing already done, tries them again).
 */
export function assertRefreshComplete(result: ReferenceRefreshResult): void {
  const failed = [
    ...result.symbols.results.map((r) => ({ ...r, of: 'symbol' })),
    ...result.corporateActions.results.map((r) => ({ ...r, of: 'corporate action' })),
  ].filter((r) => r.status === 'ERROR');
  if (failed.length === 0) return;
  throw new AlphalakeError(
    'INCOMPLETE',
    `${result.source} refresh: ${failed.length} record(s) in error: ${failed
      .map((r) => `${r.of} ${r.key}: ${r.code ?? 'ERROR'} ${r.error ?? ''}`.trim())
      .join('; ')}`,
    { source: result.source, failed: failed.length },
  );
}
