import { describe, expect, it } from 'vitest';
import { CallLimiter } from '../../../src/ingest/index.js';

/** A virtual clock: `sleep` moves time forward instead of waiting, and records each wait. */
function virtualTime(start = 0) {
  const clock = { now: start, sleeps: [] as number[] };
  return {
    clock,
    now: () => clock.now,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.now += ms;
    },
  };
}

describe('CallLimiter', () => {
  it('lets 5 calls through per sliding minute and spaces the rest (Polygon free tier)', async () => {
    const time = virtualTime(1_000);
    const limiter = new CallLimiter({
      calls: 5,
      windowMs: 60_000,
      now: time.now,
      sleep: time.sleep,
    });
    const starts: number[] = [];
    for (let i = 0; i < 12; i++) {
      await limiter.acquire();
      starts.push(time.clock.now);
      time.clock.now += 100; // each call takes 100 ms
    }
    expect(starts).toEqual([
      1_000, 1_100, 1_200, 1_300, 1_400, 61_000, 61_100, 61_200, 61_300, 61_400, 121_000, 121_100,
    ]);
    // No window of 60 s holds more than 5 starts.
    for (const s of starts)
      expect(starts.filter((t) => t >= s && t < s + 60_000).length).toBeLessThanOrEqual(5);
  });

  it('serves concurrent callers in order, and `0` calls means no limit', async () => {
    const time = virtualTime();
    const limiter = new CallLimiter({
      calls: 2,
      windowMs: 1_000,
      now: time.now,
      sleep: time.sleep,
    });
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => limiter.acquire().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3]);
    expect(time.clock.sleeps).toEqual([1_000]);

    const free = virtualTime();
    const unlimited = new CallLimiter({ calls: 0, now: free.now, sleep: free.sleep });
    for (let i = 0; i < 100; i++) await unlimited.acquire();
    expect(free.clock.sleeps).toEqual([]);
  });

  it('rejects a caller whose signal aborts while it waits, without blocking the next', async () => {
    const limiter = new CallLimiter({ calls: 1, windowMs: 60_000 });
    await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
  });
});
