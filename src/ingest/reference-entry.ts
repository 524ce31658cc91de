import { AlphalakeError } from '../domain/index.js';
import type { CorporateActionInput, ReferenceEntry } from '../mdm/index.js';
import type { SourceRecord } from './source.js';

/**
 * A split or dividend a source read (Polygon's reference endpoints, Yahoo's chart events)
 * as a reference-data entry of `ticker`: the action, or why it could not be read.
 */
export function referenceEntryOf(
  ticker: string,
  endpoint: string,
  record: SourceRecord,
): ReferenceEntry<CorporateActionInput> {
  if (record.kind === 'corporate-action') {
    const action = record.value;
    return { key: `${action.symbol} ${action.kind} ${action.exDate}`, value: action };
  }
  const detail = record.kind === 'malformed' ? record.detail : `a ${record.kind} record`;
  return {
    key: ticker,
    error: new AlphalakeError('UPSTREAM_MALFORMED', `${endpoint} of ${ticker}: ${detail}`, {
      raw: record.kind === 'malformed' ? record.raw : '',
      ...(record.kind === 'malformed' && record.column ? { column: record.column } : {}),
    }),
  };
}
