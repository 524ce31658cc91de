import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMedallion } from '../../src/batch/index.js';
import { localObjectStore, type LakeTimestamp } from '../../src/lake/index.js';

const CLI = path.resolve('dist/src/cli/main.js');
const run = promisify(execFile);

/** Shaped as Polygon's `/v2/reference/news` response. */
const POLYGON_NEWS = {
  results: [
    {
      id: 'n1',
      publisher: { name: 'Benzinga' },
      title: 'Apple beats',
      published_utc: '2024-03-28T13:45:00Z',
      article_url: 'https://example.com/1',
      tickers: ['AAPL'],
      description: 'Up.',
    },
    {
      id: 'n2',
      publisher: { name: 'Reuters' },
      title: 'Chips rally',
      published_utc: '2024-03-28T14:00:00.123456Z',
      article_url: 'https://example.com/2',
      tickers: ['NVDA', 'AMZN'],
    },
    { id: 'n1', title: 'Apple beats (again)', published_utc: '2024-03-28T13:45:00Z' },
    { id: 'n3', published_utc: '2024-03-28T15:00:00Z' },
  ],
};

const RSS = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>Market Wire</title>
<item><guid>rss-1</guid><title>Tesla halts</title><link>https://example.com/r1</link>
<pubDate>Thu, 28 Mar 2024 16:00:00 GMT</pubDate><category>TSLA</category><category>autos</category>
<description>Halted.</description></item>
<item><guid>n2</guid><title>Chips rally</title><pubDate>Thu, 28 Mar 2024 14:00:00 GMT</pubDate></item>
</channel></rss>`;

describe('alphalake ingest --source news', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'alphalake-news-'));
    await writeFile(path.join(dir, 'news.json'), JSON.stringify(POLYGON_NEWS));
    await writeFile(path.join(dir, 'feed.xml'), RSS);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes each article once into bronze.news, by id, across files and runs', async () => {
    const env = { PATH: process.env.PATH ?? '', ALPHALAKE_HOME: path.join(dir, 'home') };
    const ingest = async (file: string) =>
      (
        await run(
          process.execPath,
          [CLI, 'ingest', '--source', 'news', '--path', path.join(dir, file)],
          {
            env,
          },
        )
      ).stdout.trim();
    expect(await ingest('news.json')).toBe(
      'alphalake: news:news.json: 4 articles read; 2 written to bronze.news; duplicates 1; rejected 1',
    );
    expect(await ingest('feed.xml')).toBe(
      'alphalake: news:feed.xml: 2 articles read; 1 written to bronze.news; duplicates 1; rejected 0',
    );
    expect(await ingest('news.json')).toMatch(
      /0 written to bronze.news; duplicates 3; rejected 1$/,
    );

    const tables = await openMedallion(localObjectStore(path.join(dir, 'home', 'lake')));
    const rows = (await tables.news.query({ orderBy: [{ column: 'published_at' }] })).rows;
    expect(
      rows.map((r) => ({
        ...r,
        published_at: (r.published_at as LakeTimestamp).epochMicros,
        date: String(r.date),
      })),
    ).toEqual([
      {
        id: 'n1',
        published_at: Date.UTC(2024, 2, 28, 13, 45) * 1000,
        tickers: ['AAPL'],
        title: 'Apple beats',
        description: 'Up.',
        url: 'https://example.com/1',
        source: 'Benzinga',
        date: '2024-03-28',
      },
      {
        id: 'n2',
        published_at: Date.UTC(2024, 2, 28, 14, 0) * 1000 + 123_456,
        tickers: ['NVDA', 'AMZN'],
        title: 'Chips rally',
        description: '',
        url: 'https://example.com/2',
        source: 'Reuters',
        date: '2024-03-28',
      },
      {
        id: 'rss-1',
        published_at: Date.UTC(2024, 2, 28, 16, 0) * 1000,
        tickers: ['TSLA'],
        title: 'Tesla halts',
        description: 'Halted.',
        url: 'https://example.com/r1',
        source: 'Market Wire',
        date: '2024-03-28',
      },
    ]);
    const rejects = (
      await tables.rejects.query({
        filters: [{ column: 'source', op: '=', value: 'news:news.json' }],
      })
    ).rows;
    expect(rejects.map((r) => [r.reason, r.detail])).toEqual([
      ['MALFORMED_ROW', 'title: is missing'],
      ['MALFORMED_ROW', 'title: is missing'],
    ]);
  });
});
