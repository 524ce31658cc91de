import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config/index.js';
import { floorToMinute, type Trade } from '../../src/domain/index.js';
import { CassandraSpeedStore } from '../../src/speed/index.js';
import { stopChildren } from '../support/processes.js';
import { privateServer, type PrivateServer } from '../support/private-services.js';
import { simulatorOf } from '../support/simulator.js';
import { endpoints, repoRoot, requireService } from './endpoints.js';

/**
 * Issue 9's fault acceptance, through the whole distributed stack: an `alphalake serve
 * --role api`, a speed worker (`serve --role speed,api`, so that a subscription is served
 * by the speed layer's hub), a `sink` and an `ingest --source simulator` process on a
 * private Kafka and a private Cassandra (scripts/services with a home and ports of this
 * test's; the shared servers are never stopped), the lake in a local folder.
 *
 * 1. Cassandra is stopped (SIGSTOP: the process is frozen, its sockets stay open and
 *    nothing answers) for 30 s mid-stream: `/readyz` is 503 and names the speed store,
 *    `/healthz` stays 200; after SIGCONT `/readyz` is ready again.
 * 2. Kafka is stopped (scripts/services/down) for 30 s while the simulator produces: the
 *    ingest process holds back (its feed waits on the bounded producer buffer; its RSS
 *    stays within the buffer's bound of where it was) and `/readyz` names the bus.
 *
 * Afterwards the simulator's tape (deterministic: regenerated here) is the oracle, per
 * symbol (a symbol is one partition's key, so its order is the tape's): bronze.trades,
 * read with delta-rs, holds every trade of the tape up to its newest one exactly once;
 * the speed store holds the same trades, field for field; live GraphQL subscriptions
 * opened before the faults, on the api process (its live relay reads Kafka) and on the
 * speed worker (its hub hears of a trade once Cassandra has it, so it stalls while
 * Cassandra is frozen and catches up after), received each of them once, in order.
 */
const CLI = path.join(repoRoot, 'dist/src/cli/main.js');
const OUTAGE_MS = 30_000;
const TRADES_PER_SECOND = 5;
/** The Kafka bus' default producer buffer (maxBufferedBytes in src/stream/kafka-bus.ts). */
const PRODUCER_BOUND_BYTES = 64 * 1024 * 1024;
const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const keyspace = `faults_${id}`;
const run = promisify(execFile);

const ORACLE = `
import json, sys
from deltalake import DeltaTable
t = DeltaTable(sys.argv[1]).to_pyarrow_table(columns=["symbol", "ts", "id"])
print(json.dumps({"symbol": t.column("symbol").to_pylist(), "ts": t.column("ts").cast("int64").to_pylist(), "id": t.column("id").to_pylist()}), flush=True)
import os; os._exit(0)
`;

interface Role {
  readonly child: ChildProcess;
  output: string;
}

interface ReceivedTrade {
  symbol: string;
  tsMicros: number;
  seq: number;
  price: number;
  size: number;
  id: string;
  exchange: string;
}

describe('faults through the distributed stack (private Kafka and Cassandra)', () => {
  let kafka: PrivateServer | undefined;
  let cassandra: PrivateServer | undefined;
  let home = '';
  let env: Record<string, string> = {};
  const roles: Role[] = [];
  let api = '';
  let ingest: Role | undefined;
  const clients: Client[] = [];
  /** What the api process's subscription got: its live relay reads Kafka. */
  const receivedByRelay: Trade[] = [];
  /** What the speed worker's subscription got: its speed layer writes Cassandra first. */
  const receivedBySpeed: Trade[] = [];

  /** Subscribes to every simulated symbol's trades at `url`; resolves once connected. */
  function subscribe(url: string, into: Trade[]): Promise<void> {
    const symbols = loadConfig({}).simulatorSymbols;
    const client = createClient({ url, webSocketImpl: WebSocket, lazy: false });
    clients.push(client);
    return new Promise<void>((resolve, reject) => {
      client.on('connected', () => resolve());
      client.subscribe<{ trades: ReceivedTrade }>(
        {
          query: `subscription { trades(symbols: ${JSON.stringify(symbols)}) { symbol tsMicros seq price size id exchange } }`,
        },
        {
          next: ({ data }) => {
            const t = data?.trades;
            if (!t) return;
            const { tsMicros, ...rest } = t;
            into.push({ ...rest, ts: tsMicros });
          },
          error: reject,
          complete: () => undefined,
        },
      );
    });
  }
  let kafkaBackAt = 0;
  /** Wall clock (µs) just before the ingest process was started and once it was running. */
  let ingestStarted: [number, number] = [0, 0];

  function start(args: readonly string[], ready: RegExp): Promise<[Role, RegExpExecArray]> {
    const child = spawn(process.execPath, [CLI, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const role: Role = { child, output: '' };
    roles.push(role);
    return new Promise((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        role.output += chunk.toString();
        const match = ready.exec(role.output);
        if (match) resolve([role, match]);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) =>
        reject(new Error(`${args.join(' ')} exited ${code}:\n${role.output}`)),
      );
    });
  }

  /** What the roles said, for a failure's message. */
  const logs = () =>
    roles.map((r) => `---- ${r.child.spawnargs.slice(2).join(' ')}\n${r.output.slice(-3000)}`);

  const readyz = async () => {
    const response = await fetch(new URL('/readyz', api));
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  /** Polls `check` every second until it holds; fails with the roles' logs after `ms`. */
  async function until(what: string, check: () => Promise<boolean>, ms = 180_000) {
    const deadline = Date.now() + ms;
    while (!(await check().catch(() => false))) {
      if (Date.now() > deadline)
        throw new Error(`${what}: not within ${ms} ms\n${logs().join('\n')}`);
      await sleep(1_000);
    }
  }

  beforeAll(async () => {
    await requireService('python');
    [kafka, cassandra] = await Promise.all([
      privateServer('kafka', { heap: '384m' }),
      privateServer('cassandra', { heap: '768m' }),
    ]);
    await Promise.all([kafka.up(), cassandra.up()]);
    home = await mkdtemp(path.join(os.tmpdir(), 'alphalake-faults-'));
    env = {
      PATH: process.env.PATH ?? '',
      ALPHALAKE_HOME: home,
      KAFKA_BROKERS: kafka.address,
      KAFKA_TOPIC_PREFIX: `faults-${id}.`,
      KAFKA_PARTITIONS: '3',
      CASSANDRA_CONTACT_POINTS: cassandra.address,
      CASSANDRA_LOCAL_DC: endpoints.cassandra.localDataCenter,
      CASSANDRA_KEYSPACE: keyspace,
      SIM_BACKFILL_SESSIONS: '0',
      SIM_TRADES_PER_SECOND: String(TRADES_PER_SECOND),
      BATCH_INTERVAL_SECONDS: '2',
      // The faults under test are the backends'; auth has its own tests (auth.test.ts).
      AUTH_MODE: 'off',
    };
    const running = /running, ready in/;
    const graphql = /GraphQL on (http:\/\/\S+) \(subscriptions on (ws:\/\/\S+)\)/;
    await start(['sink'], running);
    // The speed worker also serves GraphQL: its subscriptions come from its speed layer's
    // hub, which hears of a trade only once the speed store has it.
    const [, speedMatch] = await start(['serve', '--role', 'speed,api', '--port', '0'], graphql);
    const [, match] = await start(['serve', '--role', 'api', '--port', '0'], graphql);
    api = match[1]!;
    await Promise.all([
      subscribe(match[2]!, receivedByRelay),
      subscribe(speedMatch[2]!, receivedBySpeed),
    ]);
    const spawnedAt = Date.now() * 1_000;
    [ingest] = await start(['ingest', '--source', 'simulator'], running);
    ingestStarted = [spawnedAt, Date.now() * 1_000];
    await until(
      'trades on the subscriptions',
      async () => receivedByRelay.length > 0 && receivedBySpeed.length > 0,
    );
    await until('/readyz ready', async () => (await readyz()).status === 200);
  });

  afterAll(async () => {
    for (const client of clients) await client.dispose();
    // The sink flushes on SIGTERM; the others just stop.
    await stopChildren(roles.map((r) => r.child));
    // A test that failed half-way may leave Cassandra frozen: thaw it so `down` can stop it.
    await cassandra
      ?.pid()
      .then((pid) => process.kill(pid, 'SIGCONT'))
      .catch(() => undefined);
    await Promise.all([kafka?.remove(), cassandra?.remove()]);
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('Cassandra stopped for 30 s: /readyz names the speed store, /healthz stays up, it comes back', async () => {
    const pid = await cassandra!.pid();
    process.kill(pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    try {
      // Asked until it says so, within the first half of the outage: in one run (load 12)
      // the very first answer, 160 ms after SIGSTOP, was still 200, for a cause not found
      // (its logs were not kept). A freeze that never shows on /readyz still fails here.
      let down = await readyz();
      while (down.status !== 503 && Date.now() - stoppedAt < OUTAGE_MS / 2) {
        await sleep(500);
        down = await readyz();
      }
      expect(down.status).toBe(503);
      expect(down.body['status']).toBe('degraded');
      expect(down.body['backends']).toMatchObject({
        speedStore: {
          backend: 'cassandra',
          ready: false,
          detail: expect.stringContaining(`Cassandra at ${cassandra!.address} does not answer`),
        },
        bus: { ready: true },
        lake: { ready: true },
      });
      expect((await fetch(new URL('/healthz', api))).status).toBe(200);
      await sleep(OUTAGE_MS - (Date.now() - stoppedAt));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await until(
      '/readyz ready after Cassandra is back',
      async () => (await readyz()).status === 200,
    );
  });

  it('Kafka stopped for 30 s: the producer holds back within its bound, /readyz names the bus', async () => {
    const rss = async () => {
      const status = await readFile(`/proc/${ingest!.child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
    };
    const before = await rss();
    await kafka!.down();
    const stoppedAt = Date.now();
    let largest = before;
    let busDown: Record<string, unknown> | undefined;
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      largest = Math.max(largest, await rss());
      if (busDown === undefined) {
        const { status, body } = await readyz();
        if (status === 503) busDown = body;
      }
      await sleep(500);
    }
    await kafka!.up();
    kafkaBackAt = Date.now() * 1_000;
    expect(busDown?.['backends']).toMatchObject({
      bus: { backend: 'kafka', ready: false },
    });
    // The feed waits on its publish, so the tape is not read ahead while Kafka is away: the
    // process grows by less than the producer's buffer bound.
    expect(largest - before).toBeLessThan(PRODUCER_BOUND_BYTES);
    expect(ingest!.child.exitCode).toBeNull();
    await until('/readyz ready after Kafka is back', async () => (await readyz()).status === 200);
    // Caught up: for every symbol, a trade the simulator made after Kafka was back has
    // reached the api's relay (through Kafka) and the speed worker's subscription (through
    // Kafka, the speed layer and Cassandra), so both consumers rejoined their groups and
    // the backlog of the outage went through. It took 33.5 s (load 12.6) while kafkajs
    // backed off to 30 s and a rejoining member waited out its old member's 30 s session,
    // 12.1 s (load 11.3) with the bus's 1 s and 10 s (docs/stream.md); the bound is
    // generous so that a loaded machine does not fail it, and the figure is printed.
    const { simulatorSymbols } = loadConfig({});
    await until('both subscriptions hear trades made after Kafka is back', async () =>
      [receivedByRelay, receivedBySpeed].every((received) =>
        simulatorSymbols.every((symbol) =>
          received.some((t) => t.symbol === symbol && t.ts >= kafkaBackAt),
        ),
      ),
    );
    console.log(
      `caught up ${Date.now() - kafkaBackAt / 1_000} ms after Kafka answered again ` +
        `(load ${os.loadavg()[0]!.toFixed(1)})`,
    );
  });

  it('afterwards the lake, the speed store and both subscriptions hold every trade once', async () => {
    // A minute of trading after the faults, so the lake holds minutes past them.
    await sleep(70_000 - (Date.now() - kafkaBackAt / 1_000));
    // The producer stops, then the sink (which flushes what it consumed into the lake).
    await stopChildren([ingest!.child]);
    const sink = roles.find((r) => r.child.spawnargs.includes('sink'))!;
    await sleep(5_000);
    await stopChildren([sink.child]);

    const { stdout } = await run(
      endpoints.python,
      ['-c', ORACLE, path.join(home, 'lake', 'bronze', 'trades')],
      { maxBuffer: 512 * 1024 * 1024 },
    );
    const lake = JSON.parse(stdout) as { symbol: string[]; ts: number[]; id: string[] };
    expect(new Set(lake.id).size).toBe(lake.id.length);
    const config = loadConfig({});
    // A fresh lake: the feed starts at the minute its process started in, so the lake's
    // first trade lies in that minute (a lost first minute would show here).
    const from = floorToMinute(Math.min(...lake.ts));
    expect(ingestStarted.map(floorToMinute)).toContain(from);
    const newest = new Map<string, number>();
    lake.symbol.forEach((symbol, i) =>
      newest.set(symbol, Math.max(newest.get(symbol) ?? 0, lake.ts[i]!)),
    );
    const simulator = simulatorOf(config, TRADES_PER_SECOND);
    const to = Math.max(...newest.values()) + 1;
    const tape = [...simulator.tape(from, to, { quotes: false })].flatMap((s) => s.trades);
    const store = await CassandraSpeedStore.open({
      contactPoints: [cassandra!.address],
      localDataCenter: endpoints.cassandra.localDataCenter,
      keyspace,
    });
    try {
      for (const symbol of config.simulatorSymbols) {
        const last = newest.get(symbol);
        expect(last, `${symbol} in the lake`).toBeGreaterThan(kafkaBackAt);
        const expected = tape.filter((t) => t.symbol === symbol && t.ts <= last!);
        // The lake: exactly the tape of this symbol up to its newest trade.
        const inLake = lake.id.filter((_, i) => lake.symbol[i] === symbol).sort();
        expect(inLake).toEqual(expected.map((t) => t.id).sort());
        // The speed store caught up: the same trades, field for field.
        const range = { from, to: last! + 1 };
        await until(`${symbol} in the speed store`, async () => {
          const rows = await store.trades(symbol, range, expected.length + 1);
          return rows.length >= expected.length;
        });
        expect(await store.trades(symbol, range, expected.length + 1)).toEqual(expected);
        // The subscription: from its first trade of the symbol on, each once, in order.
        // The subscriptions: from their first trade of the symbol on, each once, in order.
        for (const [name, received] of [
          ['api (relay from Kafka)', receivedByRelay],
          ['speed worker (after Cassandra)', receivedBySpeed],
        ] as const) {
          await until(`${symbol} on the ${name} subscription`, async () =>
            received.some((t) => t.symbol === symbol && t.ts >= last!),
          );
          const live = received.filter((t) => t.symbol === symbol && t.ts <= last!);
          expect(live.length, name).toBeGreaterThan(0);
          expect(live, name).toEqual(expected.filter((t) => t.ts >= live[0]!.ts));
        }
      }
    } finally {
      await store.close();
    }
  });
});
