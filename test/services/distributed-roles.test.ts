import { stopChildren } from '../support/processes.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config/index.js';
import { floorToMinute, SECOND_US, type Trade } from '../../src/domain/index.js';
import { simulatorOf } from '../support/simulator.js';
import { endpoints, repoRoot, requireService } from './endpoints.js';

/**
 * The roles as separate processes on the real Kafka and Cassandra: a GraphQL subscription
 * on an `alphalake serve --role api` process receives the trades a separate
 * `alphalake ingest --source simulator` process produces. The simulator is deterministic,
 * so the test regenerates the tape and compares every received trade to it exactly.
 */
const CLI = path.join(repoRoot, 'dist/src/cli/main.js');
const id = `${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
let home: string;
const children: ChildProcess[] = [];

function start(args: readonly string[], env: Record<string, string>, ready: RegExp) {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  return new Promise<RegExpExecArray>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) resolve(match);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}:\n${output}`)));
  });
}

describe('distributed roles (services tier)', () => {
  beforeAll(async () => {
    await requireService('kafka');
    await requireService('cassandra');
    home = await mkdtemp(path.join(os.tmpdir(), 'alphalake-roles-'));
  });

  afterAll(async () => {
    await stopChildren(children);
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('pushes the trades of a separate ingest process to a subscription on an api process', async () => {
    const env = {
      PATH: process.env.PATH ?? '',
      ALPHALAKE_HOME: home,
      AUTH_MODE: 'off',
      KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: `alphalake-roles-${id}.`,
      CASSANDRA_CONTACT_POINTS: endpoints.cassandra.contactPoints.join(','),
      CASSANDRA_LOCAL_DC: endpoints.cassandra.localDataCenter,
      CASSANDRA_KEYSPACE: `roles_${id}`,
      SIM_BACKFILL_SESSIONS: '0',
      SIM_TRADES_PER_SECOND: '20',
    };
    const [, wsUrl] = await start(
      ['serve', '--role', 'api', '--port', '0'],
      env,
      /subscriptions on (ws:\/\/\S+\/graphql)/,
    );
    const client = createClient({ url: wsUrl!, webSocketImpl: WebSocket, lazy: true });
    const received: Trade[] = [];
    const enough = new Promise<void>((resolve, reject) => {
      client.subscribe<{
        trades: {
          symbol: string;
          tsMicros: number;
          seq: number;
          price: number;
          size: number;
          id: string;
          exchange: string;
        };
      }>(
        {
          query:
            'subscription { trades(symbols: ["AAPL", "MSFT"]) { symbol tsMicros seq price size id exchange } }',
        },
        {
          next: (message) => {
            const t = message.data?.trades;
            if (t)
              received.push({
                symbol: t.symbol,
                ts: t.tsMicros,
                seq: t.seq,
                price: t.price,
                size: t.size,
                id: t.id,
                exchange: t.exchange,
              });
            if (received.length >= 20) resolve();
          },
          error: reject,
          complete: resolve,
        },
      );
    });
    await start(['ingest', '--source', 'simulator'], env, /ingest running/);
    await enough;
    await client.dispose();

    const config = loadConfig({});
    const simulator = simulatorOf(config, 20);
    const from = floorToMinute(Math.min(...received.map((t) => t.ts)));
    const to = Math.max(...received.map((t) => t.ts)) + SECOND_US;
    const tape = new Map<string, Trade>();
    for (const second of simulator.tape(from, to, { quotes: false })) {
      for (const trade of second.trades) tape.set(trade.id, trade);
    }
    // Only the subscribed symbols (which of them came first depends on the partitions).
    expect(received.filter((t) => t.symbol !== 'AAPL' && t.symbol !== 'MSFT')).toEqual([]);
    expect(received.length).toBeGreaterThanOrEqual(20);
    for (const trade of received) expect(trade).toEqual(tape.get(trade.id));
  });
});
