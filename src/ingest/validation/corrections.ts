import type { IngestReason } from '../../domain/index.js';

/**
 * What the ingest path does with a trade given the tape's trade correction indicator.
 *
 * Polygon passes the SIP's indicator through unchanged: its trades carry `correction`,
 * documented only as "The trade correction indicator" (Polygon/Massive REST `/v3/trades`
 * and the `us_stocks_sip/trades_v1` flat files; the WebSocket `T` event's `e`). The values
 * are those of the consolidated tape, as NYSE's Daily TAQ client specification lists them
 * for its "Trade Correction Indicator" field:
 *
 * | value | meaning                                              | here                       |
 * |-------|------------------------------------------------------|----------------------------|
 * | 0     | regular trade, never corrected, changed or cancelled | ingested                   |
 * | 1     | original trade, later corrected                      | SUPERSEDED_BY_CORRECTION   |
 * | 2     | symbol correction                                    | ingested (it carries the corrected symbol) |
 * | 7     | original trade, later marked erroneous               | CANCELLED                  |
 * | 8     | original trade, later cancelled                      | CANCELLED                  |
 * | 10    | cancel record                                        | CANCEL_RECORD              |
 * | 11    | error record                                         | CANCEL_RECORD              |
 * | 12    | correction record (the corrected values)             | ingested                   |
 *
 * So a corrected trade reaches the lake once, with its corrected values, and a cancelled
 * one not at all; what is kept out lands in `bronze.rejects` with its reason, so the tape
 * can be reconstructed. Any other value is `CORRECTION_UNKNOWN`: kept out, not guessed.
 */
export function correctionOutcome(indicator: number | undefined): 'ingest' | IngestReason {
  if (indicator === undefined) return 'ingest';
  const outcome = OUTCOMES.get(indicator);
  return outcome ?? 'CORRECTION_UNKNOWN';
}

const OUTCOMES: ReadonlyMap<number, 'ingest' | IngestReason> = new Map([
  [0, 'ingest'],
  [1, 'SUPERSEDED_BY_CORRECTION'],
  [2, 'ingest'],
  [7, 'CANCELLED'],
  [8, 'CANCELLED'],
  [10, 'CANCEL_RECORD'],
  [11, 'CANCEL_RECORD'],
  [12, 'ingest'],
]);
