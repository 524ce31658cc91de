/** Wall-clock time as a port, so tests can hold time still or move it by hand. */
export interface Clock {
  /** Epoch µs (the domain's unit, docs/time.md). */
  now(): number;
}

/** The system clock: `Date.now()` has millisecond resolution, so its µs end in 000. */
export const systemClock: Clock = { now: () => Date.now() * 1_000 };

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  constructor(private current: number) {}
  now(): number {
    return this.current;
  }
  set(ts: number): void {
    this.current = ts;
  }
  /** Moves the clock by `us` microseconds. */
  advance(us: number): void {
    this.current += us;
  }
}
