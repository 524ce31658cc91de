import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createPlatform } from '../../src/app.js';
import { openMedallion } from '../../src/batch/index.js';
import { configWith } from '../../src/config/index.js';
import { localObjectStore } from '../../src/lake/index.js';
import { startLoopbackApi } from '../support/api.js';
import { minuteAggsRows, minuteAggsText } from '../support/polygon-fixture.js';

/**
 * Issue 10's vendor bars: a Polygon minute-aggregates flat file through
 * `alphalake ingest --source file` (the in-process bus and the lake sink, embedded) into
 * bronze.vendor_bars, read back through GraphQL `vendorBars` at full precision against the
 * file's own text; adjusted for a split by default; a second run commits nothing again;
 * `alphalake backfill` writes the same rows; a corrected file of the same day, through
 * either command, leaves each bar once with the correction's values.
 */
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'alphalake-vendor-bars-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { rows: ROWS, bad: BAD } = minuteAggsRows(120);
const file = path.join(dir, '2024-03-28.csv');
writeFileSync(file, minuteAggsText({ rows: ROWS, bad: BAD }));

/**
 * The vendor's corrected file of the same day, under the same name in another folder (so
 * the same source, `file:2024-03-28.csv`, and another size, so another file job): three
 * AAPL bars with other values (close set to the open, volume changed), and two new minutes.
 */
const CORRECTED = ROWS.map((r, i) =>
  r[0] === 'AAPL' && [0, 2, 200].includes(i) ? [r[0], '777.25', r[2]!, r[2]!, ...r.slice(4)] : r,
);
const ADDED = minuteAggsRows(122).rows.slice(ROWS.length);
const correctedFile = path.join(dir, 'corrected', '2024-03-28.csv');
mkdirSync(path.dirname(correctedFile));
writeFileSync(correctedFile, minuteAggsText({ rows: [...CORRECTED, ...ADDED], bad: BAD }));

/** The file's AAPL rows as `vendorBars` must answer them: every number as its text reads. */
const expected = (factor = { price: 1, volume: 1 }, rows = ROWS) =>
  rows
    .filter((r) => r[0] === 'AAPL')
    .map((r) => ({
      symbol: 'AAPL',
      interval: '1m',
      tsMicros: Number(BigInt(r[6]!) / 1000n),
      open: Number(r[2]) * factor.price,
      high: Number(r[4]) * factor.price,
      low: Number(r[5]) * factor.price,
      close: Number(r[3]) * factor.price,
      volume: Number(r[1]) * factor.volume,
      vwap: null,
      transactions: Number(r[7]),
      source: `file:${path.basename(file)}`,
    }));

const QUERY = (adjusted: boolean) =>
  `{ vendorBars(symbol: "AAPL", from: "2024-03-28T00:00:00Z", to: "2024-03-29T00:00:00Z", adjusted: ${adjusted}) { symbol interval tsMicros open high low close volume vwap transactions source } }`;

async function vendorBarsOf(home: string, split = false) {
  const platform = await createPlatform(
    configWith({ home, port: 0, backfillSessions: 0, authMode: 'off', simulatorEnabled: false }),
  );
  await platform.start({ live: false });
  const server = await startLoopbackApi(platform);
  try {
    if (split) {
      // 2-for-1 the day after: the file's bars are before the ex-date, so halved and doubled.
      await platform.masterData.addCorporateActionOnce(
        {
          kind: 'split',
          symbol: 'AAPL',
          exDate: '2024-03-29',
          splitFrom: 1,
          splitTo: 2,
          source: 'test',
        },
        'test',
      );
    }
    const ask = async (adjusted: boolean) => {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: QUERY(adjusted) }),
      });
      const body = (await response.json()) as {
        data?: { vendorBars: unknown[] };
        errors?: unknown;
      };
      expect(body.errors).toBeUndefined();
      return body.data!.vendorBars;
    };
    return { raw: await ask(false), adjusted: await ask(true) };
  } finally {
    await server.close();
    await platform.stop();
  }
}

async function rowsIn(home: string) {
  const tables = await openMedallion(localObjectStore(path.join(home, 'lake')));
  const bars = await tables.vendorBars.query({ columns: ['symbol', 'interval', 'ts', 'source'] });
  // Each bar's key once: (source, symbol, interval, ts) as the table holds it.
  const keys = new Set(
    bars.rows.map((r) => JSON.stringify([r.source, r.symbol, r.interval, String(r.ts)])),
  );
  expect(keys.size).toBe(bars.rows.length);
  const rejects = await tables.rejects.query({ columns: ['reason', 'payload'] });
  return {
    bars: bars.rows.length,
    rejects: rejects.rows.map((r) => `${String(r.reason)} ${String(r.payload)}`),
  };
}

const cli = (args: string[], home: string) =>
  run(process.execPath, [CLI, ...args, '--home', home], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: '' },
  });

describe('bronze.vendor_bars', () => {
  it('takes a minute-aggregates file through the bus into the lake and GraphQL at full precision, once', async () => {
    const home = path.join(dir, 'home-ingest');
    const first = await cli(
      ['ingest', '--source', 'file', '--path', file, '--format', 'polygon-minute-aggs'],
      home,
    );
    expect(first.stdout).toMatch(
      /241 rows read \(0 skipped as already committed\); accepted 240 bars; rejected 1 \(BAR_INCONSISTENT 1\)/,
    );
    expect(await rowsIn(home)).toEqual({
      bars: 240,
      rejects: [`BAR_INCONSISTENT ${BAD.join(',')}`],
    });

    const { raw, adjusted } = await vendorBarsOf(home, true);
    expect(raw).toEqual(expected());
    expect(adjusted).toEqual(expected({ price: 1 / 2, volume: 2 }));

    // Run again: the file is complete in the lake, passed over, nothing written twice.
    const again = await cli(
      ['ingest', '--source', 'file', '--path', file, '--format', 'polygon-minute-aggs'],
      home,
    );
    expect(again.stdout).toMatch(/241 rows read \(241 skipped as already committed\)/);
    expect(await rowsIn(home)).toEqual({
      bars: 240,
      rejects: [`BAR_INCONSISTENT ${BAD.join(',')}`],
    });
  }, 180_000);

  it('is written by `alphalake backfill` too, with the same rows', async () => {
    const home = path.join(dir, 'home-backfill');
    const out = await cli(['backfill', '--source', 'file', '--path', file], home);
    expect(out.stdout).toMatch(/accepted 240 bars; rejected 1 \(BAR_INCONSISTENT 1\)/);
    expect(await rowsIn(home)).toEqual({
      bars: 240,
      rejects: [`BAR_INCONSISTENT ${BAD.join(',')}`],
    });
    const { raw } = await vendorBarsOf(home);
    expect(raw).toEqual(expected());
  }, 180_000);

  for (const command of ['ingest', 'backfill'] as const) {
    it(`replaces bars delivered again by \`${command}\`: once each, the vendor's correction wins`, async () => {
      const home = path.join(dir, `home-correct-${command}`);
      const args = (file: string) =>
        command === 'ingest'
          ? ['ingest', '--source', 'file', '--path', file, '--format', 'polygon-minute-aggs']
          : ['backfill', '--source', 'file', '--path', file];
      await cli(args(file), home);
      const second = await cli(args(correctedFile), home);
      // A new file job (another size): read whole, nothing skipped, every bar written again.
      expect(second.stdout).toMatch(
        /245 rows read \(0 skipped as already committed\); accepted 244 bars; rejected 1 \(BAR_INCONSISTENT 1\)/,
      );
      // 240 bars of the first file, replaced by their 240 again, and the 4 new minutes.
      expect(await rowsIn(home)).toEqual({
        bars: 244,
        rejects: [`BAR_INCONSISTENT ${BAD.join(',')}`, `BAR_INCONSISTENT ${BAD.join(',')}`],
      });
      const { raw } = await vendorBarsOf(home);
      expect(raw).toEqual(expected(undefined, [...CORRECTED, ...ADDED]));
    }, 180_000);
  }
});
