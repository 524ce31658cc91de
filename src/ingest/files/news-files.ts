import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { AlphalakeError, microsOfDate, parseIsoMicros, type NewsItem } from '../../domain/index.js';
import type { Source, SourceRecord } from '../source.js';

/** News files hold a few thousand articles at most: read whole, at most this size. */
const MAX_NEWS_FILE_BYTES = 256 * 1024 * 1024;

const TICKER = /^[A-Z][A-Z0-9.]{0,9}$/;

/**
 * A news file as a `Source`: JSON (an array of articles, Polygon's `/v2/reference/news`
 * response `{ results: [...] }`, or one article per line) or RSS 2.0 (fast-xml-parser). An
 * article it cannot read (no id, no title, no time) becomes a `malformed` record naming
 * the field, so it lands in bronze.rejects.
 */
export class NewsFileSource implements Source {
  readonly name: string;

  private constructor(
    private readonly file: string,
    private readonly format: 'json' | 'rss',
  ) {
    this.name = `news:${path.basename(file)}`;
  }

  static async open(file: string): Promise<NewsFileSource> {
    const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
      throw new AlphalakeError(
        error.code === 'ENOENT' ? 'NOT_FOUND' : 'BAD_USER_INPUT',
        `${file}: ${error.code === 'ENOENT' ? 'no such file' : `cannot be read (${error.code})`}`,
        { path: file },
      );
    });
    if (info.size > MAX_NEWS_FILE_BYTES) {
      throw new AlphalakeError('BAD_USER_INPUT', `${file}: a news file over 256 MB`, {
        path: file,
      });
    }
    const format = /\.(xml|rss)$/i.test(file)
      ? 'rss'
      : /\.(json|ndjson|jsonl)$/i.test(file)
        ? 'json'
        : undefined;
    if (!format) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `${file}: unknown news format: expected .json, .ndjson, .jsonl, .xml or .rss`,
        { path: file },
      );
    }
    return new NewsFileSource(file, format);
  }

  async *records(signal: AbortSignal): AsyncIterable<readonly SourceRecord[]> {
    const text = await readFile(this.file, { encoding: 'utf8', signal });
    const records =
      this.format === 'rss' ? rssRecords(text, this.file) : jsonRecords(text, this.file);
    for (let i = 0; i < records.length; i += 1_000) yield records.slice(i, i + 1_000);
  }
}

type Article = Record<string, unknown>;

function jsonRecords(text: string, file: string): SourceRecord[] {
  let articles: unknown[];
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
      const parsed: unknown = JSON.parse(trimmed);
      articles = Array.isArray(parsed)
        ? parsed
        : Array.isArray((parsed as { results?: unknown }).results)
          ? (parsed as { results: unknown[] }).results
          : [parsed];
    } else articles = [];
  } catch {
    // One article per line (NDJSON): a bad line is one malformed record, not a failed file.
    return trimmed
      .split(/\r?\n/)
      .filter((line) => line.trim() !== '')
      .map((line) => {
        try {
          return articleRecord(JSON.parse(line) as Article, line, path.basename(file));
        } catch (error) {
          return {
            kind: 'malformed' as const,
            raw: line,
            detail: `not JSON: ${(error as Error).message}`,
          };
        }
      });
  }
  return articles.map((article) =>
    articleRecord(article as Article, JSON.stringify(article), path.basename(file)),
  );
}

/** Polygon's news article (`id, publisher.name, title, published_utc, article_url, tickers, description`), or the same names plainly. */
function articleRecord(article: Article, raw: string, fallbackSource: string): SourceRecord {
  const missing = (field: string): SourceRecord => ({
    kind: 'malformed',
    raw,
    column: field,
    detail: 'is missing',
  });
  if (typeof article !== 'object' || article === null)
    return { kind: 'malformed', raw, detail: 'not an object' };
  const id = article.id;
  if (typeof id !== 'string' || id === '') return missing('id');
  const title = article.title;
  if (typeof title !== 'string' || title === '') return missing('title');
  const when = article.published_utc ?? article.published_at ?? article.publishedAt;
  const publishedAt = typeof when === 'string' ? parseIsoMicros(when) : undefined;
  if (publishedAt === undefined) {
    return when === undefined
      ? missing('published_utc')
      : {
          kind: 'malformed',
          raw,
          column: 'published_utc',
          detail: `${JSON.stringify(when)} is not ISO-8601`,
        };
  }
  const tickers = Array.isArray(article.tickers)
    ? article.tickers.filter((t): t is string => typeof t === 'string')
    : [];
  const publisher = article.publisher as { name?: unknown } | undefined;
  const source =
    typeof publisher?.name === 'string'
      ? publisher.name
      : typeof article.source === 'string'
        ? article.source
        : fallbackSource;
  const url = article.article_url ?? article.url;
  const item: NewsItem = {
    id,
    publishedAt,
    tickers,
    title,
    description: typeof article.description === 'string' ? article.description : '',
    url: typeof url === 'string' ? url : '',
    source,
  };
  return { kind: 'news', value: item, raw };
}

/**
 * RSS 2.0 items: `guid` (else `link`) is the id, `pubDate` (RFC 822) the time, `category`
 * elements that look like tickers the tickers, the channel's `title` the source.
 */
function rssRecords(text: string, file: string): SourceRecord[] {
  let document: { rss?: { channel?: { title?: unknown; item?: unknown } } };
  try {
    document = new XMLParser({
      ignoreAttributes: true,
      parseTagValue: false,
      isArray: (name) => name === 'item' || name === 'category',
    }).parse(text, true);
  } catch (error) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `${file}: not well-formed XML: ${(error as Error).message}`,
      { path: file },
    );
  }
  const channel = document.rss?.channel;
  if (!channel)
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `${file}: not an RSS 2.0 document (no rss/channel)`,
      { path: file },
    );
  const source = typeof channel.title === 'string' ? channel.title : path.basename(file);
  const items = Array.isArray(channel.item) ? (channel.item as Article[]) : [];
  return items.map((item) => {
    const raw = JSON.stringify(item);
    const guid = textOf(item.guid) ?? textOf(item.link);
    if (!guid)
      return { kind: 'malformed', raw, column: 'guid', detail: 'is missing (and no link)' };
    const title = textOf(item.title);
    if (!title) return { kind: 'malformed', raw, column: 'title', detail: 'is missing' };
    const date = textOf(item.pubDate);
    const millis = date === undefined ? Number.NaN : Date.parse(date);
    if (!Number.isFinite(millis))
      return {
        kind: 'malformed',
        raw,
        column: 'pubDate',
        detail: date === undefined ? 'is missing' : `${JSON.stringify(date)} is not a date`,
      };
    const categories = Array.isArray(item.category) ? item.category.map(textOf) : [];
    const value: NewsItem = {
      id: guid,
      publishedAt: microsOfDate(new Date(millis)),
      tickers: categories.filter((c): c is string => c !== undefined && TICKER.test(c)),
      title,
      description: textOf(item.description) ?? '',
      url: textOf(item.link) ?? '',
      source,
    };
    return { kind: 'news', value, raw };
  });
}

function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object' && value !== null && '#text' in value)
    return textOf((value as { '#text': unknown })['#text']);
  return undefined;
}
