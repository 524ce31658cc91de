import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/**
 * One in-process DuckDB for the lake: it writes every data file and checkpoint and runs
 * every query. Work runs on a small pool of connections: up to `maxConnections` statements
 * run at once (each is itself parallel inside DuckDB), and further callers wait their turn
 * in arrival order instead of opening ever more connections that would only contend for
 * the same cores. A statement never runs on the event loop: @duckdb/node-api executes it
 * on a worker thread. An `AbortSignal` interrupts the running statement, or takes a waiting
 * caller out of the queue.
 *
 * `withDuckDB` must not be nested (a caller holding a connection must not wait for a
 * second one): with every connection held by an outer call, the inner ones would wait
 * forever. Nothing in the lake nests it.
 */
export interface DuckDBPoolOptions {
  /** Statements that may run at once. @default 4 */
  readonly maxConnections: number;
}

export const DEFAULT_DUCKDB_POOL: DuckDBPoolOptions = Object.freeze({ maxConnections: 4 });

let instance: Promise<DuckDBInstance> | undefined;
let pool: DuckDBPoolOptions = DEFAULT_DUCKDB_POOL;
const idle: DuckDBConnection[] = [];
/** Connections handed out (running a statement) or being opened. */
let busy = 0;
const waiting: (() => void)[] = [];

/** Sets the pool's size (src/app.ts does, from config); takes effect for the next caller. */
export function configureDuckDB(options: Partial<DuckDBPoolOptions>): void {
  const maxConnections = options.maxConnections ?? pool.maxConnections;
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    throw new RangeError(`maxConnections must be a positive integer, not ${maxConnections}`);
  }
  pool = Object.freeze({ maxConnections });
  while (waiting.length > 0 && busy < pool.maxConnections) {
    busy++;
    (waiting.shift() as () => void)();
  }
}

/** How the pool stands, for metrics and tests. */
export function duckdbPoolStats(): { busy: number; idle: number; waiting: number } {
  return { busy, idle: idle.length, waiting: waiting.length };
}

function getInstance(): Promise<DuckDBInstance> {
  instance ??= createInstance().catch((error: unknown) => {
    instance = undefined;
    throw error;
  });
  return instance;
}

async function createInstance(): Promise<DuckDBInstance> {
  const created = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
  });
  const connection = await created.connect();
  try {
    // Delta data files are immutable (a rewrite is a new file), so their Parquet footers
    // can be kept between queries instead of being parsed again by every read. (Set here:
    // the setting exists only once the parquet extension has loaded.)
    await connection.run('SET GLOBAL parquet_metadata_cache = true');
  } finally {
    connection.closeSync();
  }
  return created;
}

/** Waits for a free slot in the pool (FIFO); counts it as busy. */
function acquireSlot(signal?: AbortSignal): Promise<void> {
  if (busy < pool.maxConnections) {
    busy++;
    return Promise.resolve();
  }
  return new Promise<void>((resolve, reject) => {
    const grant = (): void => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = (): void => {
      const index = waiting.indexOf(grant);
      if (index >= 0) waiting.splice(index, 1);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    waiting.push(grant);
  });
}

function releaseSlot(): void {
  const next = waiting.shift();
  if (next && busy <= pool.maxConnections) next();
  else busy--;
}

export async function withDuckDB<T>(
  work: (connection: DuckDBConnection) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  signal?.throwIfAborted();
  await acquireSlot(signal);
  let connection: DuckDBConnection;
  try {
    connection = idle.pop() ?? (await (await getInstance()).connect());
  } catch (error) {
    releaseSlot();
    throw error;
  }
  // DuckDB clears a pending interrupt when a statement begins, so one sent while the
  // statement is still on its way to the worker thread (or before `work` reaches it) is
  // lost: once aborted, the connection is interrupted again every few milliseconds until
  // the work settles, and a result that arrives after the abort is refused all the same.
  let repeat: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    connection.interrupt();
    repeat ??= setInterval(() => connection.interrupt(), INTERRUPT_REPEAT_MS);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort(); // aborted while the connection was being opened
  let healthy = true;
  let result: T;
  try {
    result = await work(connection);
  } catch (error) {
    healthy = false;
    signal?.throwIfAborted();
    throw error;
  } finally {
    clearInterval(repeat);
    signal?.removeEventListener('abort', onAbort);
    if (healthy && idle.length < pool.maxConnections) idle.push(connection);
    else connection.closeSync();
    releaseSlot();
  }
  signal?.throwIfAborted();
  return result;
}

/** How often an aborted statement's connection is interrupted again until the work settles. */
const INTERRUPT_REPEAT_MS = 5;

/** An SQL string literal, for file paths only (values always travel as parameters). */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
