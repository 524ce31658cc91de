import { createRequire } from 'node:module';
import type * as GraphQL from 'graphql';
import type { ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { AlphalakeError } from '../../../src/domain/index.js';
import { sharedSubscriptionExecutor } from '../../../src/graphql/index.js';
import { LiveHub } from '../../../src/speed/index.js';
import type { Bar } from '../../../src/domain/index.js';

/**
 * The shared subscription executor: subscribers of one live feed with the same document,
 * variables and group (role) get one execution per update, the same response object; any
 * difference among those gives its own execution; every subscriber still gets every update
 * in order, and a slow one is cut off alone.
 */
// graphql as the compiled sources load it (Node's resolution, not vite's ESM build): a
// schema is only usable by the one copy of graphql that built it.
const {
  GraphQLFloat,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  parse,
} = createRequire(import.meta.url)('graphql') as typeof GraphQL;

function setup(queueLimit = 100) {
  const hub = new LiveHub({ queueLimit });
  const executions: string[] = [];
  const barType = new GraphQLObjectType<Bar>({
    name: 'Bar',
    fields: {
      symbol: { type: new GraphQLNonNull(GraphQLString) },
      close: {
        type: new GraphQLNonNull(GraphQLFloat),
        args: { times: { type: GraphQLFloat } },
        resolve: (bar, args: { times?: number }) => {
          executions.push(`${bar.symbol}@${bar.ts}×${args.times ?? 1}`);
          return bar.close * (args.times ?? 1);
        },
      },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        bars: {
          type: new GraphQLNonNull(barType),
          args: { symbols: { type: new GraphQLNonNull(new GraphQLList(GraphQLString)) } },
          subscribe: (_root, args: { symbols: string[] }) => hub.subscribe('bar', args.symbols),
          resolve: (bar: Bar) => bar,
        },
      },
    }),
  });
  const subscribe = sharedSubscriptionExecutor((args) => String(args.contextValue));
  const open = async (query: string, role = 'viewer', variables?: Record<string, unknown>) => {
    const stream = await subscribe({
      schema,
      document: parse(query),
      contextValue: role,
      ...(variables ? { variableValues: variables } : {}),
    });
    if (!(Symbol.asyncIterator in stream)) throw new Error(JSON.stringify(stream));
    return stream as AsyncIterableIterator<ExecutionResult>;
  };
  return { hub, executions, open };
}

const bar = (symbol: string, ts: number, close: number): Bar => ({
  symbol,
  interval: '1m',
  ts,
  open: close,
  high: close,
  low: close,
  close,
  volume: 1,
  vwap: close,
  tradeCount: 1,
});

const QUERY = 'subscription { bars(symbols: ["AAPL"]) { symbol close } }';

describe('shared subscription executor', () => {
  it('executes an update once for subscribers with the same document, variables and role', async () => {
    const { hub, executions, open } = setup();
    const streams = await Promise.all(Array.from({ length: 5 }, () => open(QUERY)));
    hub.publish('bar', [bar('AAPL', 1, 10.5), bar('MSFT', 1, 99), bar('AAPL', 2, 10.25)]);
    const first = await Promise.all(streams.map((s) => s.next()));
    const second = await Promise.all(streams.map((s) => s.next()));
    for (const r of first)
      expect(r.value).toEqual({ data: { bars: { symbol: 'AAPL', close: 10.5 } } });
    for (const r of second)
      expect(r.value).toEqual({ data: { bars: { symbol: 'AAPL', close: 10.25 } } });
    // One response object, shared.
    expect(new Set(first.map((r) => r.value)).size).toBe(1);
    expect(executions).toEqual(['AAPL@1×1', 'AAPL@2×1']);
    await Promise.all(streams.map((s) => s.return?.()));
    expect(hub.subscriberCount('bar')).toBe(0);
  });

  it('executes apart for another document, other variables or another role', async () => {
    const { hub, executions, open } = setup();
    const variableQuery =
      'subscription($t: Float) { bars(symbols: ["AAPL"]) { symbol close(times: $t) } }';
    const streams = await Promise.all([
      open(QUERY),
      open(QUERY, 'admin'),
      open('subscription { bars(symbols: ["AAPL"]) { close(times: 2) } }'),
      open(variableQuery, 'viewer', { t: 3 }),
      open(variableQuery, 'viewer', { t: 4 }),
      open(variableQuery, 'viewer', { t: 4 }),
    ]);
    hub.publish('bar', [bar('AAPL', 7, 1.5)]);
    const results = (await Promise.all(streams.map((s) => s.next()))).map((r) => r.value);
    expect(results).toEqual([
      { data: { bars: { symbol: 'AAPL', close: 1.5 } } },
      { data: { bars: { symbol: 'AAPL', close: 1.5 } } },
      { data: { bars: { close: 3 } } },
      { data: { bars: { symbol: 'AAPL', close: 4.5 } } },
      { data: { bars: { symbol: 'AAPL', close: 6 } } },
      { data: { bars: { symbol: 'AAPL', close: 6 } } },
    ]);
    expect(executions.sort()).toEqual(['AAPL@7×1', 'AAPL@7×1', 'AAPL@7×2', 'AAPL@7×3', 'AAPL@7×4']);
    await Promise.all(streams.map((s) => s.return?.()));
  });

  it('cuts off only the subscriber that stops reading, with SLOW_CONSUMER', async () => {
    const { hub, open } = setup(3);
    const reader = await open(QUERY);
    const idle = await open(QUERY);
    const got: number[] = [];
    for (let ts = 1; ts <= 6; ts++) {
      hub.publish('bar', [bar('AAPL', ts, ts)]);
      got.push((await reader.next()).value!.data!.bars!.close as number);
    }
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
    expect(hub.droppedCount()).toBe(1);
    const cutOff = await idle.next().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(cutOff).toBeInstanceOf(AlphalakeError);
    expect((cutOff as AlphalakeError).code).toBe('SLOW_CONSUMER');
    await reader.return?.();
  });
});
