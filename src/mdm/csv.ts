import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { AlphalakeError, isAlphalakeError, type ErrorCode } from '../domain/index.js';
import type { MasterData } from './master-data.js';

/**
 * CSV import and export of symbols and corporate actions (RFC 4180 text, a header row
 * naming the columns; csv-parse and csv-stringify). An import goes row by row: each row
 * is created or updated on its own, with its own audit record, and reports its own
 * outcome, so one bad row neither stops nor hides the others.
 */

export const SYMBOL_COLUMNS = [
  'ticker',
  'name',
  'exchange',
  'assetClass',
  'currency',
  'sector',
  'industry',
  'listedDate',
  'delistedDate',
  'status',
] as const;

export const CORPORATE_ACTION_COLUMNS = [
  'symbol',
  'kind',
  'exDate',
  'splitFrom',
  'splitTo',
  'cashAmount',
  'currency',
  'source',
] as const;

export type ImportStatus = 'CREATED' | 'UPDATED' | 'UNCHANGED' | 'ERROR';

/** The outcome of one data row; `line` is its line in the file (the header is line 1). */
export interface ImportRowResult {
  readonly line: number;
  readonly key: string;
  readonly status: ImportStatus;
  readonly code?: ErrorCode;
  readonly error?: string;
}

export interface ImportResult {
  readonly results: readonly ImportRowResult[];
}

type Row = Record<string, string>;

/** Creates the symbols the file names and updates those that exist (on their current version). */
export async function importSymbolsCsv(
  masterData: MasterData,
  text: string,
  actor: string,
): Promise<ImportResult> {
  const rows = parseRows(text, SYMBOL_COLUMNS, ['ticker', 'name', 'exchange']);
  const results: ImportRowResult[] = [];
  for (const { line, row } of rows) {
    const key = (row.ticker ?? '').trim().toUpperCase();
    const fields = {
      name: row.name ?? '',
      exchange: row.exchange ?? '',
      ...optional(row, 'assetClass'),
      ...optional(row, 'currency'),
      ...nullable(row, 'sector'),
      ...nullable(row, 'industry'),
      ...nullable(row, 'listedDate'),
      ...nullable(row, 'delistedDate'),
      ...optional(row, 'status'),
    };
    results.push(
      await outcome(line, key, () => masterData.upsertSymbol({ ticker: key, ...fields }, actor)),
    );
  }
  return { results };
}

/** Adds the corporate actions the file names (an existing one of that kind and date: CONFLICT). */
export async function importCorporateActionsCsv(
  masterData: MasterData,
  text: string,
  actor: string,
): Promise<ImportResult> {
  const rows = parseRows(text, CORPORATE_ACTION_COLUMNS, ['symbol', 'kind', 'exDate']);
  const results: ImportRowResult[] = [];
  for (const { line, row } of rows) {
    const key = `${(row.symbol ?? '').trim().toUpperCase()} ${row.kind ?? ''} ${row.exDate ?? ''}`;
    results.push(
      await outcome(line, key, async () => {
        await masterData.addCorporateAction(
          {
            symbol: row.symbol ?? '',
            kind: row.kind ?? '',
            exDate: row.exDate ?? '',
            splitFrom: numberOrNull(row.splitFrom),
            splitTo: numberOrNull(row.splitTo),
            cashAmount: numberOrNull(row.cashAmount),
            currency: blankToNull(row.currency),
            source: blankToNull(row.source) ?? 'csv',
          },
          actor,
        );
        return 'CREATED';
      }),
    );
  }
  return { results };
}

export function exportSymbolsCsv(masterData: MasterData): string {
  return stringify(
    masterData.symbols().map((s) => SYMBOL_COLUMNS.map((c) => s[c] ?? '')),
    { header: true, columns: [...SYMBOL_COLUMNS] },
  );
}

export function exportCorporateActionsCsv(masterData: MasterData): string {
  const tickers = new Map(masterData.symbols().map((s) => [s.id, s.ticker]));
  return stringify(
    masterData
      .allCorporateActions()
      .map((a) => [
        tickers.get(a.symbolId) ?? a.symbol,
        a.kind,
        a.exDate,
        a.kind === 'split' ? a.splitFrom : '',
        a.kind === 'split' ? a.splitTo : '',
        a.kind === 'dividend' ? a.cashAmount : '',
        a.kind === 'dividend' ? a.currency : '',
        a.source,
      ]),
    { header: true, columns: [...CORPORATE_ACTION_COLUMNS] },
  );
}

function parseRows(
  text: string,
  known: readonly string[],
  required: readonly string[],
): { line: number; row: Row }[] {
  let records: { record: Row; info: { lines: number } }[];
  try {
    records = parse(text, {
      columns: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
      bom: true,
    }) as { record: Row; info: { lines: number } }[];
  } catch (error) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `not valid CSV: ${(error as Error).message}`,
      {},
      { cause: error },
    );
  }
  const header = records.length > 0 ? Object.keys(records[0]!.record) : firstLine(text);
  const unknown = header.filter((c) => !known.includes(c));
  const missing = required.filter((c) => !header.includes(c));
  if (unknown.length > 0 || missing.length > 0) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `CSV header: ${[
        ...(missing.length ? [`missing ${missing.join(', ')}`] : []),
        ...(unknown.length ? [`unknown ${unknown.join(', ')}`] : []),
      ].join('; ')} (columns: ${known.join(', ')})`,
    );
  }
  // `info.lines` is the line the record ends on: the line a person finds it at.
  return records.map(({ record, info }) => ({ line: info.lines, row: record }));
}

function firstLine(text: string): string[] {
  return (text.split(/\r?\n/, 1)[0] ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
}

export async function outcome(
  line: number,
  key: string,
  run: () => Promise<ImportStatus>,
): Promise<ImportRowResult> {
  try {
    return { line, key, status: await run() };
  } catch (error) {
    if (!isAlphalakeError(error)) throw error;
    return { line, key, status: 'ERROR', code: error.code, error: error.message };
  }
}

function optional(row: Row, column: string): Record<string, string> {
  const value = row[column];
  return value === undefined || value === '' ? {} : { [column]: value };
}

function nullable(row: Row, column: string): Record<string, string | null> {
  const value = row[column];
  return value === undefined ? {} : { [column]: value === '' ? null : value };
}

function blankToNull(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

/** A number cell; blank is null; text that is not a number is NaN, which validation names. */
function numberOrNull(value: string | undefined): number | null {
  if (value === undefined || value === '') return null;
  return Number(value);
}
