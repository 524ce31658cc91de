import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSource, type SourceRecord } from '../../../src/ingest/index.js';
import { withDuckDB, sqlString } from '../../../src/lake/index.js';

const HEADER =
  'ticker,conditions,correction,exchange,id,participant_timestamp,price,sequence_number,sip_timestamp,size,tape,trf_id,trf_timestamp';
// From Polygon's us_stocks_sip/trades_v1 sample (MSFT, 2023-03-28), plus bad rows.
const ROWS = [
  'MSFT,"12,37",,11,1,1679990400018025984,276.16,1550,1679990400018381329,55,3,,0',
  'MSFT,12,,8,1,1679990400000110000,276.75,1556,1679990400034839796,100,3,,0',
  'MSFT,12,1,8,2,1679990400000110000,276.75,1557,1679990400034849885,50,3,4,1679990400034849000',
  'MSFT,12,,8,3,1679990400000110000,abc,1558,1679990400034864884,5,3,,0',
  'MSFT,12,,8,4,1679990400000110000,276.7',
];

async function collect(source: FileSource): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  for await (const batch of source.records(new AbortController().signal)) records.push(...batch);
  return records;
}

describe('FileSource', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'alphalake-file-source-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const expectTrades = (records: SourceRecord[]) => {
    expect(records.map((r) => r.kind)).toEqual([
      'trade',
      'trade',
      'trade',
      'malformed',
      'malformed',
    ]);
    const first = records[0] as Extract<SourceRecord, { kind: 'trade' }>;
    expect(first.value).toEqual({
      symbol: 'MSFT',
      ts: 1_679_990_400_018_381,
      seq: 1550,
      price: 276.16,
      size: 55,
      id: '11--1',
      exchange: '11',
      tsNanos: 1_679_990_400_018_381_329n,
      // Form T, odd lot: kept on the trade, they decide what it sets in a bar.
      conditions: [12, 37],
    });
    expect(first.raw).toBe(ROWS[0]);
    expect((records[1] as Extract<SourceRecord, { kind: 'trade' }>).value.conditions).toEqual([12]);
    const corrected = records[2] as Extract<SourceRecord, { kind: 'trade' }>;
    expect(corrected.correction).toBe(1);
    expect(corrected.value.id).toBe('8-4-2');
    expect(records[3]).toMatchObject({ kind: 'malformed', column: 'price', raw: ROWS[3] });
    expect(records[4]).toMatchObject({
      kind: 'malformed',
      raw: ROWS[4],
      detail: '7 fields where the header has 13',
    });
  };

  it('reads a Polygon trades flat file, gzip or not, nanoseconds whole', async () => {
    const text = `${HEADER}\n${ROWS.join('\n')}\n`;
    const plain = path.join(dir, 'trades.csv');
    const gzip = path.join(dir, '2023-03-28.csv.gz');
    await writeFile(plain, text);
    await writeFile(gzip, gzipSync(text));
    expectTrades(await collect(await FileSource.open({ path: plain, format: 'polygon-trades' })));
    const source = await FileSource.open({ path: gzip });
    expect(source.name).toBe('file:2023-03-28.csv.gz');
    expectTrades(await collect(source));
  });

  it('reads the tab-separated layout of Polygon’s documentation too', async () => {
    const file = path.join(dir, 'trades.tsv');
    await writeFile(
      file,
      `${HEADER.replaceAll(',', '\t')}\nMSFT\t12,37\t\t11\t1\t1679990400018025984\t276.16\t1550\t1679990400018381329\t55\t3\t\t0\n`,
    );
    const [record] = await collect(await FileSource.open({ path: file }));
    expect(record).toMatchObject({
      kind: 'trade',
      value: { tsNanos: 1_679_990_400_018_381_329n, conditions: [12, 37] },
    });
  });

  it('reads minute aggregates into 1-minute bars whose unknown vwap stays NaN', async () => {
    const file = path.join(dir, 'minute_aggs.csv');
    await writeFile(
      file,
      'ticker,volume,open,close,high,low,window_start,transactions\nAAPL,4930,200.29,200.5,200.63,200.29,1744792500000000000,129\n',
    );
    const [record] = await collect(await FileSource.open({ path: file }));
    expect(record?.kind).toBe('bar');
    const bar = (record as Extract<SourceRecord, { kind: 'bar' }>).value;
    expect({ ...bar, vwap: String(bar.vwap) }).toEqual({
      symbol: 'AAPL',
      interval: '1m',
      ts: 1_744_792_500_000_000,
      open: 200.29,
      high: 200.63,
      low: 200.29,
      close: 200.5,
      volume: 4930,
      vwap: 'NaN',
      tradeCount: 129,
    });
  });

  it('streams a Parquet file through DuckDB, int64 and TIMESTAMP_NS nanoseconds whole', async () => {
    const file = path.join(dir, 'trades.parquet');
    await withDuckDB(async (connection) => {
      await connection.run(
        `COPY (SELECT * FROM (VALUES
           ('MSFT', 11, '1', 276.16::DOUBLE, 1550::BIGINT, 1679990400018381329::BIGINT, 55::BIGINT, NULL::BIGINT),
           ('AAPL', 8, '2', 190.5::DOUBLE, 7::BIGINT, 1679990400034849885::BIGINT, 100::BIGINT, 0::BIGINT)
         ) t(ticker, exchange, id, price, sequence_number, sip_timestamp, size, correction))
         TO ${sqlString(file)} (FORMAT parquet)`,
      );
    });
    const records = await collect(await FileSource.open({ path: file }));
    expect(records.map((r) => (r as Extract<SourceRecord, { kind: 'trade' }>).value)).toEqual([
      {
        symbol: 'MSFT',
        ts: 1_679_990_400_018_381,
        seq: 1550,
        price: 276.16,
        size: 55,
        id: '11--1',
        exchange: '11',
        tsNanos: 1_679_990_400_018_381_329n,
      },
      {
        symbol: 'AAPL',
        ts: 1_679_990_400_034_849,
        seq: 7,
        price: 190.5,
        size: 100,
        id: '8--2',
        exchange: '8',
        tsNanos: 1_679_990_400_034_849_885n,
      },
    ]);
    // alphalake's own layout with a TIMESTAMP_NS column, and a resume past the first row.
    const own = path.join(dir, 'own.parquet');
    await withDuckDB(async (connection) => {
      await connection.run(
        `COPY (SELECT * FROM (VALUES
           ('MSFT', '2023-03-28T08:00:00.018381329'::TIMESTAMP_NS, 276.16::DOUBLE, 55::BIGINT, 'a'),
           ('MSFT', '2023-03-28T08:00:00.018381330'::TIMESTAMP_NS, 276.17::DOUBLE, 5::BIGINT, 'b')
         ) t(symbol, ts_nanos, price, size, id)) TO ${sqlString(own)} (FORMAT parquet)`,
      );
    });
    const resumed = await collect(await FileSource.open({ path: own, skipRows: 1 }));
    expect(resumed).toMatchObject([
      {
        kind: 'trade',
        value: { id: 'b', ts: 1_679_990_400_018_381, tsNanos: 1_679_990_400_018_381_330n },
      },
    ]);
  });

  it('passes over the rows a resumed run already committed', async () => {
    const file = path.join(dir, 'resume.csv');
    await writeFile(file, `${HEADER}\n${ROWS.join('\n')}\n`);
    const source = await FileSource.open({ path: file, skipRows: 3 });
    const records = await collect(source);
    expect(records.map((r) => r.kind)).toEqual(['malformed', 'malformed']);
    expect(source.progress().rows).toBe(5);
  });

  it('paces a replay by event time at the given speed', async () => {
    const file = path.join(dir, 'paced.csv');
    // Three trades 200 ms apart in event time: at speed 2, about 200 ms of wall time.
    const t0 = 1_679_990_400_000_000_000n;
    const rows = [0n, 200_000_000n, 400_000_000n].map(
      (offset, i) => `MSFT,,,11,${i},${t0 + offset},276.16,${i},${t0 + offset},1,3,,0`,
    );
    await writeFile(file, `${HEADER}\n${rows.join('\n')}\n`);
    const batches: number[] = [];
    const source = await FileSource.open({ path: file, speed: 2 });
    for await (const batch of source.records(new AbortController().signal))
      batches.push(batch.length);
    // Each trade waits for its moment, so none shares a batch with a later one.
    expect(batches).toEqual([1, 1, 1]);
  });
});
