import { stopChildren } from '../support/processes.js';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floorToMinute, isoOfMicros, MINUTE_US, type Trade } from '../../src/domain/index.js';
import { KafkaBus, TOPICS, type Topic } from '../../src/stream/index.js';
import { endpoints, repoRoot, requireService } from './endpoints.js';

/**
 * Issue 9's "two API servers and two sink workers" acceptance, as separate processes on
 * the real Kafka, Cassandra and s3proxy (the lake on S3): two `alphalake serve --role api`
 * processes and two `alphalake sink` processes sharing the trades partitions, while the
 * test produces a tape of trades to Kafka. Once both API servers' watermark (read from the
 * table the sinks commit) has passed a range, the same bars query over that range answers
 * byte for byte the same from both and holds exactly the tape's trades, and delta-rs (not
 * our reader) finds every produced trade in `bronze.trades` exactly once.
 */
const CLI = path.join(repoRoot, 'dist/src/cli/main.js');
const TRADES = 20_000;
const PARTITIONS = 3;
/** The simulator's default symbols: the API servers' directory knows them. */
const SYMBOLS = ['AAPL', 'AMZN', 'GOOGL', 'MSFT', 'NVDA', 'TSLA'];
/** 20 000 trades 30 ms apart: a ten-minute tape. */
const STEP_US = 30_000;

/** Unique ids, time order, dyadic prices (exact in any float sum). */
function tradeAt(i: number, base: number): Trade {
  return {
    symbol: SYMBOLS[i % SYMBOLS.length]!,
    ts: base + i * STEP_US,
    seq: i,
    price: 100 + ((i * 7919) % 65_536) / 128,
    size: 1 + (i % 100),
    id: `two-api-${i}`,
    exchange: 'XNAS',
  };
}

const ORACLE = [
  'import json, os, sys',
  'from deltalake import DeltaTable',
  't = DeltaTable(sys.argv[1], storage_options=json.loads(sys.argv[2])).to_pyarrow_table(columns=["id"])',
  'ids = t.column("id").to_pylist()',
  'print(json.dumps({"rows": len(ids), "distinct": len(set(ids)), "ids": ids}))',
  'sys.stdout.flush()',
  // delta-rs 1.6 aborts now and then while its runtime shuts down: the answer is out.
  'os._exit(0)',
].join('\n');

const id = `${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
let home: string;
const children: ChildProcess[] = [];
const log: string[] = [];
/** Each child's output so far, by the order of start. */
const outputs: string[] = [];

function start(args: readonly string[], env: Record<string, string>, ready: RegExp) {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const index = outputs.push('') - 1;
  let output = '';
  return new Promise<RegExpExecArray>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      outputs[index] = output;
      log.push(`[${args[0]}] ${chunk.toString()}`);
      const match = ready.exec(output);
      if (match) resolve(match);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}:\n${output}`)));
  });
}

async function watermarkOf(url: string): Promise<number | undefined> {
  const body = (await (await fetch(new URL('/readyz', url))).json()) as {
    watermark: string | null;
  };
  return body.watermark === null ? undefined : Date.parse(body.watermark) * 1_000;
}

describe('two API servers and two sinks as processes (services tier)', () => {
  beforeAll(async () => {
    await requireService('kafka');
    await requireService('cassandra');
    await requireService('s3');
    await requireService('python');
    home = await mkdtemp(path.join(os.tmpdir(), 'alphalake-two-api-'));
  });

  afterAll(async () => {
    await stopChildren(children);
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('answers a bars query below the watermark identically from both, and holds each trade once', async () => {
    const prefix = `alphalake-two-api-${id}.`;
    const { s3 } = endpoints;
    const lake = `s3://${s3.bucket}/two-api-${id}`;
    const env = {
      LAKE_URI: lake,
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_REGION: s3.region,
      PATH: process.env.PATH ?? '',
      ALPHALAKE_HOME: home,
      AUTH_MODE: 'off',
      KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_PARTITIONS: String(PARTITIONS),
      CASSANDRA_CONTACT_POINTS: endpoints.cassandra.contactPoints.join(','),
      CASSANDRA_LOCAL_DC: endpoints.cassandra.localDataCenter,
      CASSANDRA_KEYSPACE: `two_api_${id}`,
      BATCH_INTERVAL_SECONDS: '1',
      SIM_BACKFILL_SESSIONS: '0',
    };
    const api = /GraphQL on (http:\/\/\S+\/graphql)/;
    const [[, first], [, second]] = await Promise.all([
      start(['serve', '--role', 'api', '--port', '0'], env, api),
      start(['serve', '--role', 'api', '--port', '0'], env, api),
      start(['sink'], env, /sink running/),
      start(['sink'], env, /sink running/),
    ]);

    // The tape ends ten minutes before now, so the sink can seal its minutes at once.
    const base = floorToMinute(Date.now() * 1_000) - 20 * MINUTE_US;
    const tape = Array.from({ length: TRADES }, (_, i) => tradeAt(i, base));
    const producer = await KafkaBus.connect({
      brokers: endpoints.kafkaBrokers,
      clientId: 'alphalake-two-api-producer',
      topicNames: Object.fromEntries(TOPICS.map((t) => [t, `${prefix}${t}`])) as Record<
        Topic,
        string
      >,
      partitions: PARTITIONS,
    });
    try {
      await producer.publish(
        'trades',
        tape.map((t) => ({ key: t.symbol, value: t })),
      );
    } finally {
      await producer.close();
    }

    // The last trade is in minute base + 9: the sink seals up to it; both servers follow.
    const sealed = base + 9 * MINUTE_US;
    for (let attempt = 0; ; attempt++) {
      const marks = await Promise.all([first!, second!].map(watermarkOf));
      if (marks.every((mark) => mark !== undefined && mark >= sealed)) break;
      // Not a timing check: a stalled sink fails here with its log rather than at the
      // test's timeout with none.
      if (attempt === 300) {
        throw new Error(
          `watermarks ${marks.map((m) => (m === undefined ? 'none' : isoOfMicros(m))).join(', ')} never reached ${isoOfMicros(sealed)}:\n${log.join('').slice(-4_000)}`,
        );
      }
      await sleep(500);
    }

    const from = base;
    const to = base + 5 * MINUTE_US;
    const query = {
      query: `{ bars(symbol: "AAPL", from: "${isoOfMicros(from)}", to: "${isoOfMicros(to)}") { ts open high low close volume vwap tradeCount source } }`,
    };
    const ask = async (url: string) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(query),
      });
      expect(response.status).toBe(200);
      return Buffer.from(await response.arrayBuffer());
    };
    const [fromFirst, fromSecond] = await Promise.all([ask(first!), ask(second!)]);
    expect(fromFirst.equals(fromSecond), `${fromFirst}\n≠\n${fromSecond}`).toBe(true);

    // Not two equal empty answers: five lake bars holding exactly the tape's AAPL trades.
    const bars = (
      JSON.parse(fromFirst.toString()) as {
        data: { bars: { volume: number; tradeCount: number; source: string }[] };
      }
    ).data.bars;
    const aapl = tape.filter((t) => t.symbol === 'AAPL' && t.ts >= from && t.ts < to);
    expect(bars.map((bar) => bar.source)).toEqual(['LAKE', 'LAKE', 'LAKE', 'LAKE', 'LAKE']);
    expect(bars.reduce((sum, bar) => sum + bar.tradeCount, 0)).toBe(aapl.length);
    expect(bars.reduce((sum, bar) => sum + bar.volume, 0)).toBe(
      aapl.reduce((sum, t) => sum + t.size, 0),
    );

    // Both sinks worked: each one's latest assignment holds trades partitions, together all.
    const assigned = outputs.slice(2).map((output) => {
      const lines = [...output.matchAll(/trades partitions \[([\d,]*)\] assigned/g)];
      const last = lines.at(-1)?.[1] ?? '';
      return last === '' ? [] : last.split(',').map(Number);
    });
    expect(
      assigned.every((partitions) => partitions.length > 0),
      log.join(''),
    ).toBe(true);
    expect(assigned.flat().sort()).toEqual([...Array(PARTITIONS).keys()]);

    // Each trade once in bronze.trades, read by delta-rs.
    const { stdout } = await promisify(execFile)(
      endpoints.python,
      [
        '-c',
        ORACLE,
        `${lake}/bronze/trades`,
        JSON.stringify({
          AWS_ENDPOINT_URL: s3.endpoint,
          AWS_ACCESS_KEY_ID: s3.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
          AWS_REGION: s3.region,
          AWS_ALLOW_HTTP: 'true',
        }),
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const found = JSON.parse(stdout) as { rows: number; distinct: number; ids: string[] };
    expect(found.rows, log.join('').slice(-4_000)).toBe(TRADES);
    expect(found.distinct).toBe(TRADES);
    expect(new Set(found.ids)).toEqual(new Set(tape.map((t) => t.id)));
  }, 240_000);
});
