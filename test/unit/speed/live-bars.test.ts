import { describe, expect, it } from 'vitest';
import type { Bar, Trade } from '../../../src/domain/index.js';
import {
  currentThenLive,
  LiveHub,
  MemorySpeedStore,
  SpeedLayer,
} from '../../../src/speed/index.js';
import { MemoryBus } from '../../../src/stream/index.js';

const T0 = Date.UTC(2026, 0, 2, 14, 30) * 1_000; // epoch µs
const bar = (tradeCount: number, close: number, ts = T0, symbol = 'AAPL'): Bar => ({
  symbol,
  interval: '1m',
  ts,
  open: 190,
  high: 191,
  low: 189,
  close,
  volume: 100 * tradeCount,
  vwap: 190.5,
  tradeCount,
});

describe('live bars: the current bar from the store, then the hub', () => {
  it('starts with the stored bar, skips an update the snapshot already holds, then follows', async () => {
    const store = new MemorySpeedStore();
    const hub = new LiveHub();
    await store.upsertBars([bar(1, 190.1)]);
    const bars = currentThenLive(hub, ['AAPL'], (s) => store.currentBar(s, '1m'));
    expect((await bars.next()).value).toEqual(bar(1, 190.1));
    hub.publish('bar', [bar(1, 190.1)]); // written before the read, published after it
    hub.publish('bar', [bar(2, 190.2)]);
    hub.publish('bar', [bar(1, 190.3, T0 + 60_000)]);
    expect((await bars.next()).value).toEqual(bar(2, 190.2));
    expect((await bars.next()).value).toEqual(bar(1, 190.3, T0 + 60_000));
    await bars.return?.();
    expect(hub.subscriberCount('bar')).toBe(0);
  });

  it('sends a push with as many trades as the snapshot but other numbers (a rolled bar read from the store)', async () => {
    // A 1h bar read from the store rebuilds its notional as vwap × volume, which can be
    // one ulp off the speed layer's own sum: the live push, exact, must still reach the
    // subscriber, and an older push (fewer trades) must not.
    const hub = new LiveHub();
    const fromStore = { ...bar(3, 190.3), vwap: 195.14568390021512 };
    const exact = { ...bar(3, 190.3), vwap: 195.1456839002151 };
    const bars = currentThenLive(hub, ['AAPL'], async () => fromStore);
    expect((await bars.next()).value).toEqual(fromStore);
    hub.publish('bar', [bar(2, 190.2)]); // older than the snapshot: skipped
    hub.publish('bar', [exact]);
    hub.publish('bar', [exact]); // the snapshot filters only until the first live push
    hub.publish('bar', [bar(4, 190.4)]);
    expect((await bars.next()).value).toEqual(exact);
    expect((await bars.next()).value).toEqual(exact);
    expect((await bars.next()).value).toEqual(bar(4, 190.4));
    await bars.return?.();
  });

  it('misses nothing published between subscribing and reading the store', async () => {
    const store = new MemorySpeedStore();
    const hub = new LiveHub();
    const bars = currentThenLive(hub, ['AAPL', 'MSFT'], (s) => store.currentBar(s, '1m'));
    // The speed layer's order: store first, then hub; the store is read only at the first next().
    await store.upsertBars([bar(1, 190.1)]);
    hub.publish('bar', [bar(1, 190.1)]);
    await store.upsertBars([bar(1, 410, T0, 'MSFT')]);
    hub.publish('bar', [bar(1, 410, T0, 'MSFT')]);
    hub.publish('bar', [bar(2, 411, T0, 'MSFT')]); // published, its store write still in flight
    const seen: Bar[] = [];
    for (let i = 0; i < 3; i++) seen.push((await bars.next()).value as Bar);
    expect(seen).toEqual([bar(1, 190.1), bar(1, 410, T0, 'MSFT'), bar(2, 411, T0, 'MSFT')]);
    await bars.return?.();
  });

  it('through the speed layer: a late subscriber gets the bar so far, then each change', async () => {
    const bus = new MemoryBus();
    const store = new MemorySpeedStore();
    const hub = new LiveHub();
    const controller = new AbortController();
    await new SpeedLayer(bus, store, hub).start(controller.signal);
    const trade = (i: number, price: number): Trade => ({
      symbol: 'AAPL',
      ts: T0 + i * 1_000_000, // one second apart
      seq: i,
      price,
      size: 10,
      id: `t${i}`,
      exchange: 'XNAS',
    });
    await bus.publish('trades', [
      { key: 'AAPL', value: trade(0, 190) },
      { key: 'AAPL', value: trade(1, 191) },
    ]);
    for (let i = 0; i < 200 && (await store.currentBar('AAPL', '1m'))?.tradeCount !== 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const bars = currentThenLive(hub, ['AAPL'], (s) => store.currentBar(s, '1m'));
    const first = (await bars.next()).value as Bar;
    await bus.publish('trades', [{ key: 'AAPL', value: trade(2, 189) }]);
    const second = (await bars.next()).value as Bar;
    expect([first.tradeCount, first.close, first.ts]).toEqual([2, 191, T0]);
    expect([second.tradeCount, second.close, second.low, second.ts]).toEqual([3, 189, 189, T0]);
    expect(await store.bars('AAPL', '1s', { from: T0, to: T0 + 60_000_000 }, 10)).toHaveLength(3);
    await bars.return?.();
    controller.abort();
    await bus.close();
  });
});
