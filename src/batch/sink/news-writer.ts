import { utcDate, type NewsItem } from '../../domain/index.js';
import type { Reject } from '../../ingest/index.js';
import type { DeltaTable } from '../../lake/index.js';
import { rejectRow } from './lake-sink.js';

/**
 * Writes news into `bronze.news`, one row per id: an id the table holds already, or one
 * repeated within the batch, is dropped and counted (feeds and files overlap). The ids
 * already held are looked up in the partitions (publication dates) the batch touches.
 */
export class NewsWriter {
  constructor(
    private readonly table: DeltaTable,
    private readonly rejectsTable?: DeltaTable,
  ) {}

  /** Appends the articles a news source could not read to bronze.rejects. */
  async reject(rejects: readonly Reject[], signal?: AbortSignal): Promise<void> {
    if (rejects.length === 0 || !this.rejectsTable) return;
    await this.rejectsTable.append(rejects.map(rejectRow), signal ? { signal } : {});
  }

  async write(
    items: readonly NewsItem[],
    signal?: AbortSignal,
  ): Promise<{ written: number; duplicates: number }> {
    if (items.length === 0) return { written: 0, duplicates: 0 };
    const dates = [...new Set(items.map((item) => utcDate(item.publishedAt)))];
    const held = new Set<string>();
    for (const date of dates) {
      const existing = await this.table.query({
        columns: ['id'],
        filters: [{ column: 'date', op: '=', value: date }],
        ...(signal ? { signal } : {}),
      });
      for (const row of existing.rows) held.add(String(row.id));
    }
    const fresh: NewsItem[] = [];
    for (const item of items) {
      if (held.has(item.id)) continue;
      held.add(item.id);
      fresh.push(item);
    }
    if (fresh.length > 0) {
      await this.table.append(
        fresh.map((item) => ({
          id: item.id,
          published_at: item.publishedAt,
          tickers: [...item.tickers],
          title: item.title,
          description: item.description,
          url: item.url,
          source: item.source,
          date: utcDate(item.publishedAt),
        })),
        { commitInfo: { alphalake: { news: fresh.length } }, ...(signal ? { signal } : {}) },
      );
    }
    return { written: fresh.length, duplicates: items.length - fresh.length };
  }
}
