import { describe, expect, it } from 'vitest';
import { MINUTE_US, SECOND_US, type Trade } from '../../../src/domain/index.js';
import {
  LiveHub,
  MemorySpeedStore,
  SpeedLayer,
  type LiveBar,
  type SpeedStore,
} from '../../../src/speed/index.js';
import { MemoryBus } from '../../../src/stream/index.js';

/**
 * The speed layer's "bar closed" pushes and its restart, on the real in-process bus, store
 * and hub: a bar is pushed once more with `closed: true` when the first trade of a later
 * interval of its symbol arrives, or when the watermark passes its end; a late trade
 * restates a closed bar, still closed; a layer started with `restore` rebuilds its open
 * bars from the store's trades and counts a trade the bus delivers again once.
 */
const T0 = Date.UTC(2026, 0, 2, 14, 30) * 1_000; // epoch µs, on a 5-minute boundary
const trade = (i: number, ts: number, price = 190 + i / 7): Trade => ({
  symbol: 'AAPL',
  ts,
  seq: i,
  price,
  size: 10 + i,
  id: `t${i}`,
  exchange: 'XNAS',
});

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  // Waits for a state, not a duration: the limit only stops a broken run from hanging.
  for (let i = 0; !(await condition()); i++) {
    if (i > 2_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A running speed layer with what it pushed on the 1m and 5m channels, in order. */
async function layerWith(store: SpeedStore = new MemorySpeedStore(), restoreAt?: number) {
  const bus = new MemoryBus();
  const hub = new LiveHub();
  const controller = new AbortController();
  const minutes: LiveBar[] = [];
  const fives: LiveBar[] = [];
  const follow = async (channel: 'bar' | 'bar5m', into: LiveBar[]) => {
    for await (const bar of hub.subscribe(channel, ['AAPL'], controller.signal)) into.push(bar);
  };
  let heard = 0;
  void follow('bar', minutes);
  void follow('bar5m', fives);
  void (async () => {
    for await (const _trade of hub.subscribe('trade', ['AAPL'], controller.signal)) heard++;
  })();
  const layer = new SpeedLayer(bus, store, hub);
  await layer.start(
    controller.signal,
    restoreAt === undefined ? undefined : { symbols: ['AAPL'], now: restoreAt },
  );
  let sent = 0;
  /**
   * Publishes trades and waits until the hub has passed them on: the layer publishes a
   * batch's trades and then, at once, its bars, so the bars are in by then too.
   */
  const send = async (...trades: Trade[]) => {
    await bus.publish(
      'trades',
      trades.map((t) => ({ key: t.symbol, value: t })),
    );
    sent += trades.length;
    await until(() => heard >= sent, 'the trades through the hub');
    await new Promise((resolve) => setTimeout(resolve, 5));
  };
  return { layer, store, minutes, fives, send, stop: () => controller.abort() };
}

const shape = (bar: LiveBar) => [bar.ts, bar.tradeCount, bar.closed];

describe('bar closed', () => {
  it('pushes a bar once more, closed, when the first trade of the next interval arrives', async () => {
    const { minutes, fives, send, stop } = await layerWith();
    try {
      await send(trade(0, T0 + SECOND_US));
      await send(trade(1, T0 + 2 * SECOND_US));
      await send(trade(2, T0 + MINUTE_US + SECOND_US));
      expect(minutes.map(shape)).toEqual([
        [T0, 1, false],
        [T0, 2, false],
        [T0, 2, true],
        [T0 + MINUTE_US, 1, false],
      ]);
      // The closing push is the bar's last state, closed.
      expect(minutes[2]).toEqual({ ...minutes[1], closed: true });
      // The 5-minute bar is still open: every push says so.
      expect(fives.map(shape)).toEqual([
        [T0, 1, false],
        [T0, 2, false],
        [T0, 3, false],
      ]);
    } finally {
      stop();
    }
  });

  it('closes by the watermark, once, and restates a closed bar on a late trade', async () => {
    const { layer, minutes, fives, send, stop } = await layerWith();
    try {
      await send(trade(0, T0 + SECOND_US), trade(1, T0 + MINUTE_US + SECOND_US));
      expect(minutes.map(shape)).toEqual([
        [T0, 1, false],
        [T0, 1, true],
        [T0 + MINUTE_US, 1, false],
      ]);
      layer.closeBefore(T0 + 2 * MINUTE_US);
      layer.closeBefore(T0 + 2 * MINUTE_US); // the same watermark again: nothing more
      await until(() => minutes.length === 4, 'the closing push');
      expect(minutes[3]).toEqual({ ...minutes[2], closed: true });
      // The 5-minute bar ends after the watermark: not closed.
      expect(fives.map((bar) => bar.closed)).toEqual([false]);
      // A late trade into the first minute: the bar again, more trades, still closed.
      await send(trade(2, T0 + 30 * SECOND_US));
      expect(minutes.slice(4).map(shape)).toEqual([[T0, 2, true]]);
      layer.closeBefore(T0 + 5 * MINUTE_US);
      await until(() => fives.length === 3, 'the 5-minute bar closed');
      expect(fives.map(shape)).toEqual([
        [T0, 2, false],
        [T0, 3, false],
        [T0, 3, true],
      ]);
    } finally {
      stop();
    }
  });

  it('rebuilds the open bars from the store after a restart, counting a redelivered trade once', async () => {
    const store = new MemorySpeedStore();
    const before = await layerWith(store);
    const first = [
      trade(0, T0 + SECOND_US),
      trade(1, T0 + 61 * SECOND_US),
      trade(2, T0 + 62 * SECOND_US),
    ];
    await before.send(...first);
    before.stop();
    // The restart: a new layer on the same store, mid-minute and mid-5-minutes.
    const after = await layerWith(store, T0 + 62 * SECOND_US + 500_000);
    try {
      // The bus delivers the last trade again (its offset was not committed), then a new one.
      await after.send(first[2]!, trade(3, T0 + 63 * SECOND_US));
      const minute = after.minutes.at(-1)!;
      expect(shape(minute)).toEqual([T0 + MINUTE_US, 3, false]);
      expect(shape(after.fives.at(-1)!)).toEqual([T0, 4, false]);
      // The stored minute holds all its trades, not only those since the restart.
      const { closed: _closed, ...stored } = minute;
      expect(await store.currentBar('AAPL', '1m')).toEqual(stored);
      expect(stored.volume).toBe(11 + 12 + 13);
    } finally {
      after.stop();
    }
  });
});
