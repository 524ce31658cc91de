import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openMedallion } from '../../src/batch/index.js';
import { systemClock } from '../../src/domain/index.js';
import { localObjectStore } from '../../src/lake/index.js';
import { EmbeddedMasterDataStore, MasterData } from '../../src/mdm/index.js';
import {
  fixtureLines,
  startPolygonRest,
  startPolygonSocket,
  startYahoo,
  tradeEvent,
  type VendorServer,
} from '../support/vendor-servers.js';

/**
 * `alphalake ingest --source polygon|polygon-ws|yahoo` as a user runs it, against local servers that
 * speak the vendors' wire formats: a range read to its end and committed, a refused key,
 * and the key in no line the process prints.
 */
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const KEY = 'pk_cli_test_3e9f0a7b6c5d';
const homes: string[] = [];
const servers: VendorServer[] = [];

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

/** `alphalake ingest …` in a fresh home (or `home`), its output ending in `HOME=<home>`. */
function run(
  args: string[],
  env: Record<string, string>,
  home = mkdtempSync(path.join(tmpdir(), 'alphalake-ingest-')),
): Promise<{ code: number | null; output: string }> {
  homes.push(home);
  const child = spawn(process.execPath, [CLI, 'ingest', '--home', home, ...args], {
    // AAPL is known: master data starts with SIM_SYMBOLS.
    env: { ...process.env, NODE_ENV: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ code, output: `${output}\nHOME=${home}` })),
  );
}

describe('alphalake ingest --source polygon | polygon-ws | yahoo', () => {
  it('reads every page of a range, publishes it, exits 0 with a summary, and never prints the key', async () => {
    const server = await startPolygonRest({
      apiKey: KEY,
      routes: { '/v3/trades/AAPL': 'polygon/trades-AAPL.json' },
    });
    servers.push(server);
    const { code, output } = await run(
      [
        '--source',
        'polygon',
        '--dataset',
        'trades',
        '--symbols',
        'AAPL',
        '--from',
        '2018-02-02',
        '--to',
        '2018-02-03',
      ],
      { POLYGON_API_KEY: KEY, POLYGON_API_URL: server.url, POLYGON_CALLS_PER_MINUTE: '0' },
    );
    expect(code, output).toBe(0);
    const n = fixtureLines('polygon/trades-AAPL.json').length;
    expect(output).toMatch(
      new RegExp(
        `alphalake: polygon: ${n} trades, 0 quotes, 0 bars, 0 news, 0 corporate actions read; ${n} accepted, 0 rejected, 0 malformed`,
      ),
    );
    expect(output).not.toContain(KEY);
  });

  it('writes Polygon news into bronze.news, each article once however often it runs', async () => {
    const server = await startPolygonRest({
      apiKey: KEY,
      routes: { '/v2/reference/news': 'polygon/news-AAPL.json' },
    });
    servers.push(server);
    const args = ['--source', 'polygon', '--dataset', 'news', '--symbols', 'AAPL'];
    const range = ['--from', '2018-02-02', '--to', '2018-02-03'];
    const env = {
      POLYGON_API_KEY: KEY,
      POLYGON_API_URL: server.url,
      POLYGON_CALLS_PER_MINUTE: '0',
    };
    const first = await run([...args, ...range], env);
    expect(first.code, first.output).toBe(0);
    const home = /HOME=(.*)$/.exec(first.output)?.[1] as string;
    const again = await run([...args, ...range], env, home);
    expect(again.code, again.output).toBe(0);
    const articles = fixtureLines('polygon/news-AAPL.json').map(
      (line) => JSON.parse(line) as { id: string; title: string },
    );
    expect(first.output).toContain(`${articles.length} news`);
    const { news } = await openMedallion(localObjectStore(path.join(home, 'lake')));
    const rows = (await news.query({ columns: ['id', 'title'], orderBy: [{ column: 'id' }] })).rows;
    // Every article once, though both runs read all of them: duplicates dropped by id. A
    // table is a set: both sides in id order, which loses nothing (ids are unique here).
    expect(rows).toEqual(
      articles
        .map(({ id, title }) => ({ id, title }))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    );
  });

  it('exits 2 naming the refused key, without printing it', async () => {
    const server = await startPolygonRest({
      apiKey: KEY,
      routes: { '/v3/trades/AAPL': 'polygon/trades-AAPL.json' },
    });
    servers.push(server);
    const wrong = 'pk_cli_wrong_aa00bb11cc22';
    const { code, output } = await run(
      ['--source', 'polygon', '--symbols', 'AAPL', '--from', '2018-02-02', '--to', '2018-02-03'],
      { POLYGON_API_KEY: wrong, POLYGON_API_URL: server.url },
    );
    expect(code, output).toBe(2);
    expect(output).toMatch(
      /alphalake: BAD_USER_INPUT: Polygon \/v3\/trades\/AAPL: HTTP 401, the API key was refused/,
    );
    expect(output).not.toContain(wrong);
  });

  it('puts Yahoo’s splits and dividends into master data, once however often it runs', async () => {
    const server = await startYahoo({ symbols: { AAPL: 'yahoo/chart-AAPL.json' } });
    servers.push(server);
    const args = [
      '--source',
      'yahoo',
      '--symbols',
      'AAPL',
      '--from',
      '2020-08-01',
      '--to',
      '2020-09-03',
    ];
    const first = await run(args, { YAHOO_API_URL: server.url });
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(
      /alphalake: yahoo: 0 trades, 0 quotes, 6 bars, 0 news, 2 corporate actions read; 6 accepted, 0 rejected, 1 malformed/,
    );
    const home = /HOME=(.*)$/.exec(first.output)?.[1] as string;
    // Again into the same home: the actions are there already, so nothing is added or refused.
    const again = await run(args, { YAHOO_API_URL: server.url }, home);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toMatch(/2 corporate actions read; 6 accepted, 0 rejected, 1 malformed/);
    // Every commit of both runs went through: the malformed row is in bronze.rejects (once
    // per run: a rerun reads the vendor again), the bars in bronze.vendor_bars.
    expect(first.output + again.output).not.toMatch(/flush failed/);
    const store = await EmbeddedMasterDataStore.open(path.join(home, 'mdm'));
    try {
      const masterData = await MasterData.open(store, {
        clock: systemClock,
        unknownSymbols: 'reject',
      });
      // Ids are master data's own; the terms are Yahoo's, in ex-date order.
      expect(masterData.corporateActions('AAPL')).toEqual([
        expect.objectContaining({
          kind: 'dividend',
          symbol: 'AAPL',
          exDate: '2020-08-07',
          cashAmount: 0.82,
          currency: 'USD',
          source: 'yahoo',
        }),
        expect.objectContaining({
          kind: 'split',
          symbol: 'AAPL',
          exDate: '2020-08-31',
          splitFrom: 1,
          splitTo: 4,
          source: 'yahoo',
        }),
      ]);
    } finally {
      await store.close();
    }
  });

  it('streams the Polygon WebSocket until SIGINT, then publishes what it had and exits 0', async () => {
    const socket = await startPolygonSocket(KEY);
    const rest = await startPolygonRest({
      apiKey: KEY,
      routes: { '/v3/trades/AAPL': 'polygon/trades-AAPL.json' },
    });
    servers.push(rest, { url: socket.url, requests: [], close: () => socket.close() });
    const home = mkdtempSync(path.join(tmpdir(), 'alphalake-ingest-'));
    homes.push(home);
    const child = spawn(
      process.execPath,
      [
        CLI,
        'ingest',
        '--home',
        home,
        '--source',
        'polygon-ws',
        '--symbols',
        'AAPL',
        '--channels',
        'T',
      ],
      {
        env: {
          ...process.env,
          NODE_ENV: '',
          POLYGON_API_KEY: KEY,
          POLYGON_WS_URL: socket.url,
          POLYGON_API_URL: rest.url,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    let marked: () => void = () => undefined;
    const marker = new Promise<void>((resolve) => (marked = resolve));
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('polygon-ws success: all sent')) marked();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const closed = new Promise<number | null>((resolve) =>
      child.on('close', (code) => resolve(code)),
    );
    const ws = await socket.subscribed(0);
    // Trades, then a status event the CLI logs once it has read everything before it.
    ws.send(
      JSON.stringify(
        fixtureLines('polygon/trades-AAPL.json')
          .slice(0, 5)
          .map((l) => tradeEvent('AAPL', l)),
      ),
    );
    ws.send(JSON.stringify([{ ev: 'status', status: 'success', message: 'all sent' }]));
    await marker;
    child.kill('SIGINT');
    expect(await closed, output).toBe(0);
    expect(output).toContain('alphalake: polygon-ws auth_success: authenticated');
    expect(output).toMatch(
      /alphalake: polygon-ws: 5 trades, 0 quotes, 0 bars, 0 news, 0 corporate actions read; 5 accepted, 0 rejected, 0 malformed/,
    );
    expect(output).not.toContain(KEY);
    expect(socket.received[0]?.[1]).toBe(JSON.stringify({ action: 'subscribe', params: 'T.AAPL' }));
  });
});
