/** Wall-clock time as a port, so tests can hold time still or move it by hand. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  constructor(private current: number) {}
  now(): number {
    return this.current;
  }
  set(ts: number): void {
    this.current = ts;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
